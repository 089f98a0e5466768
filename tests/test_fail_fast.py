"""Kafka or the warehouse unreachable, and a broker that dies before delivery: the real CLI, as a subprocess,
ends with one line naming the setting and the address and a non-zero exit, instead of looking like success."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from structlog.testing import capture_logs

from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.local.kafka import LocalKafka
from stockwatch.local.process import wait_for
from stockwatch.logs import LibrdkafkaLog
from stockwatch.topics import ensure_topics

STARTUP_TIMEOUT = 2  # seconds: KAFKA_/SNOWFLAKE_STARTUP_TIMEOUT_SECONDS for these runs


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test: bound (nobody else gets it), never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def stockwatch(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockwatch", *args],
        env={**os.environ, "KAFKA_STARTUP_TIMEOUT_SECONDS": str(STARTUP_TIMEOUT),
             "SNOWFLAKE_STARTUP_TIMEOUT_SECONDS": str(STARTUP_TIMEOUT), **env},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def kafka_env(kafka: KafkaSettings) -> dict[str, str]:
    return {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "KAFKA_TOPIC": kafka.topic,
            "KAFKA_DLQ_TOPIC": kafka.dlq_topic, "KAFKA_GROUP_ID": kafka.group_id}  # fmt: skip


def the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exit status 1 and said why in exactly one line (nothing on stdout)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ("produce", "--source", "synthetic", "--duration", "60", "--metrics-port", "0"),
        ("load", "--once", "--metrics-port", "0"),
        ("load", "--follow", "--metrics-port", "0"),
    ],
    ids=["produce", "load-once", "load-follow"],
)
@pytest.mark.warehouse
def test_kafka_unreachable_at_start_is_one_line_and_exit_1(
    command: tuple[str, ...], closed_port: int, snowflake_settings: SnowflakeSettings
) -> None:
    address = f"127.0.0.1:{closed_port}"
    line = the_one_line(stockwatch(*command, env={"KAFKA_BOOTSTRAP_SERVERS": address}))
    assert re.fullmatch(
        rf"KAFKA_BOOTSTRAP_SERVERS={address}: broker unreachable \(Connect to ipv4#{address} failed: "
        rf"Connection refused; no answer within {STARTUP_TIMEOUT} s\)",
        line,
    ), line


def test_librdkafka_lines_are_structlog_lines_written_once_per_window(closed_port: int) -> None:
    log = LibrdkafkaLog(repeat_seconds=2.0)
    producer = Producer(KafkaSettings(bootstrap_servers=f"127.0.0.1:{closed_port}").client_config(log))
    started = time.monotonic()
    with capture_logs() as logs:

        def repeated() -> bool:  # librdkafka retries the connection while messages wait, logging each failure
            producer.produce("quotes", b"{}")
            producer.poll(0.1)  # serves the log lines and error callbacks
            return any(entry.get("facility") == "FAIL" and entry.get("repeated") for entry in logs)

        wait_for(repeated, 60, "a held-back repeat of the connection failure")
        producer.purge()
        producer.flush(0)
    elapsed = time.monotonic() - started
    failures = [entry for entry in logs if entry.get("facility") == "FAIL"]
    assert {entry["log_level"] for entry in failures} == {"warning"}
    assert all("Connection refused" in entry["event"] for entry in failures)
    assert failures[0]["client"].startswith("rdkafka#producer") and "repeated" not in failures[0]
    assert 2 <= len(failures) <= elapsed / 2.0 + 1  # at most one line per 2 s window, the repeats counted


def test_unresolvable_broker_names_the_lookup_failure() -> None:
    line = the_one_line(
        stockwatch("produce", "--metrics-port", "0", env={"KAFKA_BOOTSTRAP_SERVERS": "kafka.invalid:9092"})
    )
    assert line.startswith("KAFKA_BOOTSTRAP_SERVERS=kafka.invalid:9092: broker unreachable (Failed to resolve"), line


@pytest.mark.parametrize(
    "command", [("load", "--once", "--metrics-port", "0"), ("warehouse", "init")], ids=["load-once", "init"]
)
@pytest.mark.kafka
def test_warehouse_unreachable_at_start_is_one_line_and_exit_1(
    command: tuple[str, ...], closed_port: int, kafka_settings: KafkaSettings
) -> None:
    env = {**kafka_env(kafka_settings), "SNOWFLAKE_ACCOUNT": "fakesnow", "SNOWFLAKE_HOST": "127.0.0.1",
           "SNOWFLAKE_PORT": str(closed_port), "SNOWFLAKE_PROTOCOL": "http"}  # fmt: skip
    line = the_one_line(stockwatch(*command, env=env))
    assert line == f"SNOWFLAKE_HOST/SNOWFLAKE_PORT=127.0.0.1:{closed_port}: warehouse unreachable (Connection refused)"


@pytest.mark.kafka
def test_broker_dead_before_delivery_exits_1_and_says_how_many(tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path / "kafka")  # a broker of its own: this test kills it
    broker.start()
    log = tmp_path / "producer.log"
    producer: subprocess.Popen[bytes] | None = None
    try:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        ensure_topics(kafka)
        producer = subprocess.Popen(
            [sys.executable, "-m", "stockwatch", "produce", "--source", "synthetic", "--tick-seconds", "0.05",
             "--shutdown-timeout", "2", "--metrics-port", "0"],
            env={**os.environ, **kafka_env(kafka), "STOCKS": "AAPL,MSFT"},
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        consumer = Consumer({**kafka.client_config(), "group.id": "peek", "auto.offset.reset": "earliest"})
        consumer.subscribe([kafka.topic])
        seen: list[object] = []

        def delivered() -> bool:
            seen.extend(consumer.consume(50, timeout=0.5))
            return len(seen) >= 10

        try:
            wait_for(delivered, 60, "deliveries")
        finally:
            consumer.close()
        broker.kill()  # kill -9: what the producer queues from now on cannot be delivered

        def librdkafka_noticed() -> bool:  # its lines arrive as structlog JSON, not raw `%3|...` stderr
            return any('"facility"' in line for line in log.read_text().splitlines())

        wait_for(librdkafka_noticed, 60, f"librdkafka's disconnect lines in {log}")
        producer.send_signal(signal.SIGTERM)
        assert producer.wait(60) == 1
    finally:
        if producer is not None and producer.poll() is None:
            producer.kill()
            producer.wait()
        broker.stop()
    lines = log.read_text().splitlines()
    assert not [line for line in lines if line.startswith("%")], "raw librdkafka lines on stderr"
    librdkafka = [json.loads(line) for line in lines if '"facility"' in line]
    assert {entry["level"] for entry in librdkafka} <= {"warning", "info"}, librdkafka
    match = re.fullmatch(
        rf"KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}: (\d+) messages not delivered "
        r"\((\d+) still queued at shutdown, after 2 s\)",
        lines[-1],
    )
    assert match, lines[-1]
    assert int(match[1]) >= int(match[2]) > 0
    summary = next(line for line in lines if line.startswith("published "))
    assert int(summary.split("failed ")[1].split(",")[0]) == int(match[1])
