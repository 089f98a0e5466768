"""Step 1 — batch: poll one bounded micro-batch from Kafka.

Contract: returns at most `max_records` messages, within about `max_seconds`; with `until_caught_up`
it returns as soon as every assigned partition has reached its end. Nothing is committed here: the
consumer runs with auto-commit off, and offsets move only in `commit.commit_offsets`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition


@dataclass
class Polled:
    messages: list[Message] = field(default_factory=list)
    caught_up: bool = False


def poll_batch(consumer: Consumer, max_records: int, max_seconds: float, until_caught_up: bool) -> Polled:
    deadline = time.monotonic() + max_seconds
    polled = Polled()
    at_end: set[tuple[str, int]] = set()
    while len(polled.messages) < max_records:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        chunk = consumer.consume(num_messages=min(10_000, max_records - len(polled.messages)), timeout=min(left, 0.5))
        for msg in chunk:
            err = msg.error()
            where = (msg.topic() or "", msg.partition() or 0)
            if err is None:
                polled.messages.append(msg)
                at_end.discard(where)
            elif err.code() == KafkaError._PARTITION_EOF:
                at_end.add(where)
            elif err.fatal() or not err.retriable():
                raise RuntimeError(f"Kafka consumer error: {err.str()}")
        assignment = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        if assignment and assignment <= at_end:
            polled.caught_up = True
            if until_caught_up or polled.messages:
                break  # everything there is, is in hand: load it now rather than wait out the clock
    return polled


def consumer_lag(consumer: Consumer) -> int:
    """Messages between the consumer's committed offsets and the ends of its assigned partitions."""
    assignment = consumer.assignment()
    if not assignment:
        return 0
    committed = consumer.committed(assignment, timeout=10)
    lag = 0
    for tp in committed:
        _low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=10, cached=False)
        position = tp.offset if tp.offset >= 0 else _low
        lag += max(0, high - position)
    return lag
