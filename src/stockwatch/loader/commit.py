"""Step 5 — commit: move the consumer group's offsets past the batch, only after the warehouse commit.

Contract: `batch_offsets` is, per partition, the highest offset in the batch + 1. A batch with dead letters
commits these offsets inside the dead-letter transaction (`dead_letter.DeadLetterQueue.send`); a batch
without commits them here, synchronously. If the group has been rebalanced meanwhile the commit may be
refused: the rows are already in RAW, so the new owner's redelivery merges into nothing (counted as a
warning, not an error).
"""

from __future__ import annotations

import structlog
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

log = structlog.get_logger(__name__)


def batch_offsets(messages: list[Message]) -> list[TopicPartition]:
    ends: dict[tuple[str, int], int] = {}
    for msg in messages:
        key = (msg.topic() or "", msg.partition() or 0)
        ends[key] = max(ends.get(key, -1), msg.offset() or 0)
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in ends.items()]


def commit_offsets(consumer: Consumer, offsets: list[TopicPartition]) -> None:
    if not offsets:
        return
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        log.warning("offset commit refused (rebalance?); redelivery will merge into nothing", error=str(exc))
