"""pytest fixtures that start the real parts: the Apache Kafka broker and the fakesnow warehouse.

Loaded for every suite with `-p stockwatch.testing.plugin` (see pyproject). A part that cannot start
fails the test loudly with its log; nothing here skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.local.kafka import LocalKafka
from stockwatch.topics import fresh_topics
from stockwatch.warehouse import init_warehouse


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """A real single-node KRaft broker for the whole session."""
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def fakesnow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalFakesnow]:
    """A real fakesnow server (Snowflake wire protocol over DuckDB files) for the whole session."""
    server = LocalFakesnow(tmp_path_factory.mktemp("fakesnow") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def kafka_settings(kafka_broker: LocalKafka) -> KafkaSettings:
    """Settings with a fresh topic, DLQ topic and consumer group for this test."""
    return fresh_topics(kafka_broker.bootstrap_servers)


@pytest.fixture
def snowflake_settings(fakesnow_server: LocalFakesnow, monkeypatch: pytest.MonkeyPatch) -> SnowflakeSettings:
    """Settings for a fresh database on the fakesnow server, initialised (schemas + RAW table)."""
    database = f"STOCKS_FIN_{uuid.uuid4().hex[:8].upper()}"
    for key, value in {**fakesnow_server.env(), "SNOWFLAKE_DATABASE": database}.items():
        monkeypatch.setenv(key, value)
    settings = SnowflakeSettings()
    init_warehouse(settings)
    return settings


def pytest_report_header(config: pytest.Config) -> str:
    return f"stockwatch cache: {os.environ.get('STOCKWATCH_CACHE', '~/.cache/stockwatch')}"
