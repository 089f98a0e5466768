"""Poison messages against the real broker and warehouse: every message the broker accepts is loaded or
dead-lettered, once — a message too large to re-send whole, a crash between the dead letters and the offset
commit (raised, and a real SIGKILL), and a dead-letter topic that refuses."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from stockwatch import metrics
from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.loader import FAULT_ENV, InjectedFaultError, load_batch
from stockwatch.loader.dead_letter import fit
from stockwatch.local.process import wait_for
from stockwatch.producer import Publisher
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.topics import ensure_topics
from stockwatch.warehouse import raw_count

pytestmark = [pytest.mark.kafka, pytest.mark.warehouse]

# The broker takes a record batch up to its message.max.bytes (1048588); the dead letter of this message, with
# its headers, is over a producer's default message.max.bytes (1000000): it can only be dead-lettered truncated.
POISON = b'{"symbol": "AAPL", "padding": "' + b"x" * 1_040_000 + b'"}'
SMALL_BAD = (b"{not json", b"[1, 2]")


def publish_good(kafka: KafkaSettings, *symbols: str, ticks: int = 5) -> int:
    publisher = Publisher(kafka)
    count = 0
    for event in SyntheticMarket(list(symbols), seed=3, realtime=False, max_ticks=ticks).ticks():
        publisher.publish(event)
        count += 1
    assert publisher.flush(60) == 0
    return count


def produce_raw(kafka: KafkaSettings, values: list[bytes]) -> list[tuple[int, int]]:
    """Produce `values` as a foreign producer would (a 1 MiB limit); return each one's (partition, offset)."""
    producer = Producer({**kafka.client_config(), "message.max.bytes": 1_048_000, "acks": "all"})
    where: dict[int, tuple[int, int]] = {}

    def delivered(index: int) -> Callable[[KafkaError | None, Message], None]:
        def report(err: KafkaError | None, msg: Message) -> None:
            assert err is None, err
            where[index] = (msg.partition() or 0, msg.offset() or 0)

        return report

    for index, value in enumerate(values):
        producer.produce(kafka.topic, value=value, key=b"AAPL", on_delivery=delivered(index))
    assert producer.flush(30) == 0
    return [where[i] for i in range(len(values))]


def read_dlq(kafka: KafkaSettings) -> list[Message]:
    """Every committed record of the dead-letter topic, read to the end of each partition."""
    consumer = Consumer(
        {
            **kafka.client_config(),
            "group.id": f"dlq-reader-{uuid.uuid4().hex}",
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    partitions = consumer.list_topics(kafka.dlq_topic, timeout=10).topics[kafka.dlq_topic].partitions
    consumer.assign([TopicPartition(kafka.dlq_topic, p, 0) for p in partitions])
    found: list[Message] = []
    at_end: set[int] = set()

    def read_to_end() -> bool:
        for msg in consumer.consume(100, timeout=0.5):
            err = msg.error()
            if err is None:
                found.append(msg)
            elif err.code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition() or 0)
        return at_end == set(partitions)

    try:
        wait_for(read_to_end, 60, f"the end of {kafka.dlq_topic}")
    finally:
        consumer.close()
    return found


def headers(msg: Message) -> dict[str, str]:
    pairs: list[tuple[str, bytes]] = msg.headers() or []  # type: ignore[assignment]
    return {k: v.decode() for k, v in pairs}


def coordinates(letters: list[Message]) -> collections.Counter[tuple[str, int, int]]:
    return collections.Counter(
        (h["x-stockwatch-source-topic"], int(h["x-stockwatch-source-partition"]), int(h["x-stockwatch-source-offset"]))
        for h in map(headers, letters)
    )


def dlq_counted() -> dict[str, float]:
    return {
        cls: metrics.LOADER.get_sample_value("stockwatch_loader_dlq_messages_total", {"reason_class": cls}) or 0.0
        for cls in ("schema", "not_json", "not_object", "empty")
    }


def failures_counted() -> float:
    return metrics.LOADER.get_sample_value("stockwatch_loader_dead_letter_failures_total") or 0.0


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_too_large_poison_is_dead_lettered_truncated_and_loading_goes_on(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    good = publish_good(kafka_settings, "MSFT", "TSLA")
    (poison_at, bad_at) = produce_raw(kafka_settings, [POISON, SMALL_BAD[0]])
    good += publish_good(kafka_settings, "NVDA")
    before = dlq_counted()

    result = load_batch(kafka_settings, snowflake_settings)
    assert result.rows_loaded == good == 15 and result.dlq_count == 2 and result.consumer_lag == 0
    assert delta(before, dlq_counted()) == {"schema": 1, "not_json": 1}

    letters = [(m, headers(m)) for m in read_dlq(kafka_settings)]
    by_source = {(int(h["x-stockwatch-source-partition"]), int(h["x-stockwatch-source-offset"])): (m, h)
                 for m, h in letters}  # fmt: skip
    assert len(letters) == len(by_source) == 2
    poison, poison_headers = by_source[poison_at]
    assert poison_headers["x-stockwatch-dlq-truncated"] == "true"
    assert poison_headers["x-stockwatch-source-topic"] == kafka_settings.topic
    assert poison_headers["x-stockwatch-dlq-reason-class"] == "schema"
    assert "schema violation" in poison_headers["x-stockwatch-dlq-reason"]
    assert int(poison_headers["x-stockwatch-original-value-bytes"]) == len(POISON)
    value = poison.value() or b""
    assert 500_000 < len(value) < 1_000_000 and POISON.startswith(value)  # a prefix of the original bytes
    small, small_headers = by_source[bad_at]
    assert small.value() == SMALL_BAD[0] and small_headers["x-stockwatch-dlq-truncated"] == "false"

    more = publish_good(kafka_settings, "IBM", ticks=3)
    after = load_batch(kafka_settings, snowflake_settings)
    assert after.rows_loaded == more and after.dlq_count == 0
    assert raw_count(snowflake_settings) == good + more
    assert len(read_dlq(kafka_settings)) == 2


@pytest.mark.parametrize("fault", ["after_warehouse_commit", "after_dead_letters"])
def test_replay_after_a_crash_keeps_one_dead_letter_per_offset(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    good = publish_good(kafka_settings, "AAPL", "MSFT")
    bad_at = produce_raw(kafka_settings, list(SMALL_BAD))
    before = dlq_counted()
    monkeypatch.setenv(FAULT_ENV, fault)
    with pytest.raises(InjectedFaultError):
        load_batch(kafka_settings, snowflake_settings)
    assert raw_count(snowflake_settings) == good  # the warehouse committed, the offsets did not move
    assert dlq_counted() == before  # nothing the DLQ holds yet (aborted dead letters are not counted)
    monkeypatch.delenv(FAULT_ENV)

    replay = load_batch(kafka_settings, snowflake_settings)
    assert replay.messages == good + 2 and replay.rows_loaded == 0 and replay.dlq_count == 2
    dlq = coordinates(read_dlq(kafka_settings))
    assert dlq == collections.Counter((kafka_settings.topic, p, o) for p, o in bad_at)  # each bad offset once
    assert delta(before, dlq_counted()) == {"not_json": 1, "not_object": 1}
    assert load_batch(kafka_settings, snowflake_settings).messages == 0  # and the offsets moved


def test_sigkill_between_dead_letters_and_offset_commit_keeps_one_dead_letter_per_offset(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    good = publish_good(kafka_settings, "AAPL")
    bad_at = produce_raw(kafka_settings, [POISON, *SMALL_BAD])
    env = {
        **os.environ,
        FAULT_ENV: "kill_after_dead_letters",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC": kafka_settings.topic,
        "KAFKA_DLQ_TOPIC": kafka_settings.dlq_topic,
        "KAFKA_GROUP_ID": kafka_settings.group_id,
    }
    code = "from stockwatch.config import *; from stockwatch.loader import load_batch; "
    code += "load_batch(KafkaSettings(), SnowflakeSettings())"
    crashed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]

    # The crashed loader's dead letters were acknowledged but never committed: a replay (a new process would do
    # the same) must wait for them to be aborted, then dead-letter each offset once.
    replayed: list[int] = []

    def replay() -> bool:
        result = load_batch(kafka_settings, snowflake_settings, max_seconds=10)
        replayed.append(result.messages)
        return result.messages > 0

    wait_for(replay, 150, "the replay of the crashed batch")  # the dead consumer's session timeout, too
    assert replayed[-1] == good + 3
    assert raw_count(snowflake_settings) == good
    dlq = coordinates(read_dlq(kafka_settings))
    assert dlq == collections.Counter((kafka_settings.topic, p, o) for p, o in bad_at)


def test_a_refused_dead_letter_is_counted_and_loses_nothing(
    kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    kafka = kafka_settings.model_copy(update={"dlq_topic": f"{kafka_settings.dlq_topic}_missing"})
    good = publish_good(kafka, "AAPL")
    produce_raw(kafka, [SMALL_BAD[0]])
    failed_before = failures_counted()
    with pytest.raises(Exception, match="dead-letter"):
        load_batch(kafka, snowflake_settings)
    assert failures_counted() == failed_before + 1
    assert raw_count(snowflake_settings) == good

    ensure_topics(kafka)  # the topic is there now: the same message is dead-lettered, once
    result = load_batch(kafka, snowflake_settings)
    assert result.messages == good + 1 and result.dlq_count == 1
    assert len(read_dlq(kafka)) == 1


def test_fit_keeps_what_fits_and_cuts_key_and_value_to_the_room() -> None:
    assert fit(b"AAPL", b"v" * 10, 14) == (b"AAPL", b"v" * 10)
    assert fit(b"k" * 100, b"v" * 100, 60) == (b"k" * 30, b"v" * 30)  # the key gets at most half
    assert fit(b"AAPL", b"v" * 100, 60) == (b"AAPL", b"v" * 56)
    assert fit(None, None, 0) == (None, None)
