"""The dbt suite's warehouse: the real fakesnow server with RAW seeded from the synthetic market and
daily history from `stockwatch backfill`, built with `dbt build` (fixture `built_warehouse`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from dbt_seed import Anomalies, anomalies, insert_raw, load_through_kafka, rows, session_events

from stockwatch.backfill import BackfillResult, backfill
from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.local.kafka import LocalKafka
from stockwatch.models import run_dbt
from stockwatch.topics import fresh_topics
from stockwatch.warehouse import init_warehouse

SYMBOLS = ["AAPL", "MSFT", "TSLA", "COIN"]
LIVE_DAYS = [date(2025, 6, 2), date(2025, 6, 3)]  # Monday, Tuesday
NEXT_DAY = date(2025, 6, 4)
HISTORY_END = date(2025, 5, 30)  # the Friday before the live days
HISTORY_DAYS = 300  # more than 52 weeks of trading days


@dataclass
class Warehouse:
    settings: SnowflakeSettings
    target_path: Path
    raw: pd.DataFrame
    anomalies: Anomalies
    history: BackfillResult

    def dbt(self, *args: str) -> None:
        run_dbt(list(args), self.settings, target_path=self.target_path).check()


def new_settings(server: LocalFakesnow) -> SnowflakeSettings:
    settings = SnowflakeSettings(
        account="fakesnow",
        host="127.0.0.1",
        port=server.port,
        database=f"STOCKS_FIN_{uuid.uuid4().hex[:8].upper()}",
    )
    init_warehouse(settings)
    return settings


def seeded_warehouse(server: LocalFakesnow, target_path: Path, kafka: KafkaSettings | None = None) -> Warehouse:
    """RAW with two live sessions (and anomalies) plus backfilled history, not built yet.

    With `kafka`, the sessions travel the real data path: producer -> Kafka -> loader -> RAW.
    """
    settings = new_settings(server)
    events = [e for day in LIVE_DAYS for e in session_events(SYMBOLS, day)]
    raw = rows(events)
    extra, expected = anomalies(raw)
    if kafka is None:
        insert_raw(settings, pd.concat([raw, extra], ignore_index=True))
    else:
        assert load_through_kafka(kafka, settings, events) == len(events)
        insert_raw(settings, extra)
    history = backfill(settings, SYMBOLS, days=HISTORY_DAYS, end=HISTORY_END, seed=11)
    return Warehouse(settings, target_path, raw, expected, history)


@pytest.fixture(scope="session")
def built_warehouse(
    fakesnow_server: LocalFakesnow, kafka_broker: LocalKafka, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """Seeded through the real data path and built with `dbt build` (every model, data test and unit test)."""
    kafka = fresh_topics(kafka_broker.bootstrap_servers, "dbt")
    warehouse = seeded_warehouse(fakesnow_server, tmp_path_factory.mktemp("dbt-target"), kafka)
    warehouse.dbt("build")
    return warehouse
