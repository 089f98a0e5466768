"""The data path end to end against the real Kafka broker and the real fakesnow warehouse.

Exactly-once into RAW under redelivery, retries and crashes; bad messages to the dead-letter topic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.events import MarketEvent
from stockwatch.loader import FAULT_ENV, InjectedFaultError, load_batch
from stockwatch.local.kafka import LocalKafka
from stockwatch.local.process import wait_for
from stockwatch.producer import Publisher
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.topics import ensure_topics
from stockwatch.warehouse import connect, raw_count

pytestmark = [pytest.mark.kafka, pytest.mark.warehouse]

START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def events(ticks: int, symbols: tuple[str, ...] = ("AAPL", "MSFT", "TSLA"), seed: int = 7) -> list[MarketEvent]:
    return list(SyntheticMarket(list(symbols), seed=seed, start=START, realtime=False, max_ticks=ticks).ticks())


def publish(kafka: KafkaSettings, batch: list[MarketEvent]) -> Publisher:
    publisher = Publisher(kafka)
    for event in batch:
        publisher.publish(event)
    assert publisher.flush(60) == 0
    return publisher


def distinct_ids(settings: SnowflakeSettings) -> int:
    with connect(settings) as conn:
        row = conn.cursor().execute(f"SELECT COUNT(DISTINCT EVENT_ID) FROM {settings.raw_table}").fetchone()
        return int(row[0])


def dead_letters(kafka: KafkaSettings, expected: int) -> list[tuple[bytes | None, dict[str, bytes]]]:
    consumer = Consumer(
        {**kafka.client_config(), "group.id": f"dlq-reader-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([kafka.dlq_topic])
    found: list[tuple[bytes | None, dict[str, bytes]]] = []

    def got_all() -> bool:
        for msg in consumer.consume(100, timeout=0.5):
            if msg.error() is None:
                headers: list[tuple[str, bytes]] = msg.headers() or []  # type: ignore[assignment]
                found.append((msg.value(), dict(headers)))
        return len(found) >= expected

    try:
        wait_for(got_all, 30, f"{expected} dead letters")
    finally:
        consumer.close()
    return found


def test_each_event_lands_exactly_once_under_redelivery(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    batch = events(100)
    publish(kafka_settings, batch)
    first = load_batch(kafka_settings, snowflake_settings, max_seconds=30)
    assert first.rows_loaded == len(batch) == 300
    assert first.rows_by_symbol == {"AAPL": 100, "MSFT": 100, "TSLA": 100}
    assert first.consumer_lag == 0 and first.dlq_count == 0
    assert first.max_event_time == max(e.event_time for e in batch)

    assert load_batch(kafka_settings, snowflake_settings, max_seconds=10).rows_loaded == 0  # nothing new
    publish(kafka_settings, batch)  # a restarted producer re-sends the same events
    again = load_batch(kafka_settings, snowflake_settings, max_seconds=30)
    assert again.messages == 300 and again.rows_loaded == 0
    assert raw_count(snowflake_settings) == distinct_ids(snowflake_settings) == 300


def test_raw_row_keeps_the_event_and_its_kafka_position(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    event = events(1, symbols=("NVDA",))[0]
    publish(kafka_settings, [event])
    load_batch(kafka_settings, snowflake_settings)
    with connect(snowflake_settings) as conn:
        cur = conn.cursor()
        cur.execute(
            f"SELECT EVENT_ID, SYMBOL, PRICE, VOLUME, EVENT_TIME, SOURCE, KAFKA_TOPIC, KAFKA_OFFSET "
            f"FROM {snowflake_settings.raw_table}"
        )
        row = cur.fetchone()
    assert row[:4] == (event.event_id, "NVDA", event.price, event.volume)
    assert row[4] == event.event_time.replace(tzinfo=None)  # UTC, the market's time, not ingestion time
    assert row[5:] == ("synthetic", kafka_settings.topic, 0)


def test_invalid_messages_go_to_the_dlq_with_reasons_and_loading_goes_on(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    good = events(5)
    bad_schema = json.loads(good[0].to_json())
    bad_schema.update(event_id="f" * 32, price=-3)
    raw = Producer(kafka_settings.client_config())
    for value in (b"{not json", json.dumps(bad_schema).encode(), b"[1, 2]", None):
        raw.produce(kafka_settings.topic, value=value, key=b"AAPL")
    raw.flush(10)
    publish(kafka_settings, good)

    result = load_batch(kafka_settings, snowflake_settings, max_seconds=30)
    assert result.rows_loaded == 15 and result.dlq_count == 4 and result.consumer_lag == 0
    letters = dead_letters(kafka_settings, 4)
    reasons = sorted(h["x-stockwatch-dlq-reason"].decode() for _, h in letters)
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("price" in r for r in reasons)
    assert any("not a JSON object" in r for r in reasons)
    assert any(r.startswith("empty message") for r in reasons)
    assert {v for v, _ in letters} == {b"{not json", json.dumps(bad_schema).encode(), b"[1, 2]", None}  # bytes kept
    assert all(h["x-stockwatch-source-topic"].decode() == kafka_settings.topic for _, h in letters)


def test_failure_between_warehouse_and_offset_commit_duplicates_nothing(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(kafka_settings, events(50))
    monkeypatch.setenv(FAULT_ENV, "after_warehouse_commit")
    with pytest.raises(InjectedFaultError):
        load_batch(kafka_settings, snowflake_settings)
    assert raw_count(snowflake_settings) == 150  # committed to the warehouse, offsets not committed
    monkeypatch.delenv(FAULT_ENV)
    retry = load_batch(kafka_settings, snowflake_settings)
    assert retry.messages == 150 and retry.rows_loaded == 0  # redelivered, merged into nothing
    assert retry.consumer_lag == 0
    assert raw_count(snowflake_settings) == distinct_ids(snowflake_settings) == 150


def _env(kafka: KafkaSettings, snowflake: SnowflakeSettings) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_TOPIC": kafka.topic,
        "KAFKA_DLQ_TOPIC": kafka.dlq_topic,
        "KAFKA_GROUP_ID": kafka.group_id,
        "SNOWFLAKE_DATABASE": snowflake.database,
    }


@pytest.fixture
def loader_process(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def start_loader(kafka: KafkaSettings, snowflake: SnowflakeSettings, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "stockwatch", "load", "--follow", "--flush-seconds", "0.5", "--max-records", "1000"]
    return subprocess.Popen(
        [*argv, "--metrics-port", "0"], env=_env(kafka, snowflake), stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def test_loader_killed_mid_stream_loses_and_duplicates_nothing(
    kafka_settings: KafkaSettings,
    snowflake_settings: SnowflakeSettings,
    loader_process: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    batch = events(4000)  # 12,000 events
    publish(kafka_settings, batch)
    log = tmp_path / "loader.log"
    loader_process.append(start_loader(kafka_settings, snowflake_settings, log))
    wait_for(lambda: raw_count(snowflake_settings) > 0, 120, f"the first rows in RAW (log {log})", interval=0.2)
    loader_process[0].kill()  # kill -9, mid-stream
    loader_process[0].wait()
    partial = raw_count(snowflake_settings)
    assert 0 < partial < len(batch), "the kill should land between the first and the last batch"
    loader_process.append(start_loader(kafka_settings, snowflake_settings, log))
    wait_for(lambda: raw_count(snowflake_settings) >= len(batch), 180, f"all rows after restart (log {log})")
    assert raw_count(snowflake_settings) == distinct_ids(snowflake_settings) == len(batch)


def test_broker_killed_while_producing_keeps_exactly_the_acknowledged_events(
    tmp_path: Path, snowflake_settings: SnowflakeSettings
) -> None:
    broker = LocalKafka(tmp_path / "kafka")  # a broker of its own: this test kills it
    broker.start()
    try:
        kafka = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, group_id=f"g-{uuid.uuid4().hex[:6]}")
        ensure_topics(kafka)
        batch = events(3000, seed=11)  # 9,000 events
        publisher = Publisher(kafka)
        half = threading.Event()

        def produce() -> None:
            for i, event in enumerate(batch):
                publisher.publish(event)
                if i == len(batch) // 2:
                    half.set()

        thread = threading.Thread(target=produce)
        thread.start()
        half.wait(60)
        broker.kill()  # kill -9 while the producer is mid-stream
        broker.start()  # same ports, same log dir
        thread.join(120)
        assert publisher.flush(120) == 0
        acknowledged = publisher.stats.published
        assert acknowledged + publisher.stats.failed == len(batch)
        total = 0
        while (result := load_batch(kafka, snowflake_settings, max_seconds=30)).messages:
            total += result.rows_loaded
        assert raw_count(snowflake_settings) == distinct_ids(snowflake_settings) == acknowledged == total
    finally:
        broker.stop()


def test_cli_produce_flushes_on_sigterm_and_load_once_loads_it(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings, tmp_path: Path
) -> None:
    env = {**_env(kafka_settings, snowflake_settings), "STOCKS": "AAPL,COIN"}
    producer = subprocess.Popen(
        [sys.executable, "-m", "stockwatch", "produce", "--source", "synthetic", "--tick-seconds", "0.05",
         "--metrics-port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    consumer = Consumer({**kafka_settings.client_config(), "group.id": "peek", "auto.offset.reset": "earliest"})
    consumer.subscribe([kafka_settings.topic])
    seen: list[object] = []

    def twenty_seen() -> bool:
        seen.extend(consumer.consume(50, timeout=0.5))
        return len(seen) >= 20

    wait_for(twenty_seen, 60, "20 messages")
    consumer.close()
    producer.terminate()  # SIGTERM: stop, flush, report
    out, _ = producer.communicate(timeout=60)
    assert producer.returncode == 0, out.decode()
    published = int(out.decode().rsplit("published ", 1)[1].split(",")[0])
    loaded = subprocess.run(
        [sys.executable, "-m", "stockwatch", "load", "--once", "--metrics-port", "0"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert f"loaded {published} new rows" in loaded.stderr + loaded.stdout
    assert raw_count(snowflake_settings, "AAPL") + raw_count(snowflake_settings, "COIN") == published
