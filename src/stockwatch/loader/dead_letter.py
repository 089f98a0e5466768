"""Step 4 — dead-letter: a batch's invalid messages and its source offsets, in one Kafka transaction.

Contract — every bad offset is in the DLQ once, across errors, crashes, restarts and replays:

- Runs after the warehouse commit, in place of the plain offset commit. The dead letters and the consumer
  group's offsets for the whole batch are written in ONE Kafka transaction (`send_offsets_to_transaction`
  with the consumer's group metadata, KIP-447): both are committed or neither is. An error before the commit
  aborts the transaction here; a process that dies leaves it open until the next producer with the same
  transactional.id fences it (a restarted container: same host name and pid) or the broker aborts it once
  it is older than `TRANSACTION_TIMEOUT_MS` (checked every
  `transaction.abort.timed.out.transaction.cleanup.interval.ms`, 10 s by default: 10-20 s in all). Aborted
  dead letters are never visible, the offsets did not move, and the replay dead-letters the same offsets
  again in a new transaction. So the DLQ holds each bad
  offset exactly once **for readers with `isolation.level=read_committed`** (librdkafka's default; the Java
  clients and `kafka-console-consumer` default to read_uncommitted and also show aborted copies).
  Deterministic keys or an idempotent producer alone would not do this: idempotence is per producer session,
  and a replay after a crash is a new session.
- While a dead process's transaction is open, a replacement loader's fetch of the committed offsets of those
  partitions waits (the broker answers UNSTABLE_OFFSET_COMMIT) until that abort. Batches without dead
  letters commit outside transactions, so only a death inside the short dead-letter window costs this wait.
- Every dead letter fits: the limit is the smaller of this producer's `message.max.bytes`
  (`MAX_MESSAGE_BYTES`) and the DLQ topic's `max.message.bytes`, less the headers and `RECORD_MARGIN`. Key
  and value are kept byte for byte when they fit; otherwise both are cut (the key to at most half of the
  room) and `x-stockwatch-dlq-truncated` says `true`. Headers: the reason (readable, at most
  `REASON_MAX_CHARS`), its class, the source topic/partition/offset, the time, truncated, the original key
  and value sizes.
- Metrics: `stockwatch_loader_dlq_messages_total` counts the dead letters of a committed transaction, at the
  commit (acknowledged by the broker), whatever happens to the rest of the batch;
  `stockwatch_loader_dead_letter_failures_total` counts the dead letters of a failed transaction (the Kafka
  error's name is in the log line).
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported without __all__
    AdminClient,
    ConfigResource,
    ResourceType,
)

from stockwatch import metrics
from stockwatch.config import KafkaSettings
from stockwatch.loader.validate import InvalidMessage

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 1_000_000  # this producer's message.max.bytes (librdkafka's default, set explicitly)
RECORD_MARGIN = 1024  # record and batch framing at the broker, header varints
REASON_MAX_CHARS = 1000
TRANSACTION_TIMEOUT_MS = 10_000

Header = tuple[str, bytes]
WireHeaders = list[tuple[str, str | bytes | None]]

_slots: set[int] = set()
_slots_lock = threading.Lock()


class DeadLetterError(RuntimeError):
    """The dead-letter transaction failed: nothing of it is visible and the batch's offsets did not move."""

    def __init__(self, message: str, error: str) -> None:
        super().__init__(message)
        self.error = error  # a Kafka error name (logged)


def _take_slot() -> int:
    """The lowest number no open queue of this process uses: the same after a restart, distinct meanwhile."""
    with _slots_lock:
        slot = next(i for i in itertools.count() if i not in _slots)
        _slots.add(slot)
        return slot


def topic_limit(kafka: KafkaSettings, timeout: float = 10.0) -> int | None:
    """The DLQ topic's max.message.bytes, or None when the broker does not say (no topic, no DescribeConfigs)."""
    resource = ConfigResource(ResourceType.TOPIC, kafka.dlq_topic)
    try:
        entries = AdminClient(kafka.client_config()).describe_configs([resource])[resource].result(timeout)
        return int(entries["max.message.bytes"].value)
    except (KafkaException, KeyError, ValueError, TypeError) as exc:
        log.warning(
            "DLQ topic limit unknown; sizing dead letters to the producer's", topic=kafka.dlq_topic, error=str(exc)
        )
        return None


def fit(key: bytes | None, value: bytes | None, room: int) -> tuple[bytes | None, bytes | None]:
    """Key and value cut to `room` bytes together, the key to at most half of it; unchanged when they fit."""
    if len(key or b"") + len(value or b"") <= room:
        return key, value
    kept_key = None if key is None else key[: room // 2]
    kept_value = None if value is None else value[: max(0, room - len(kept_key or b""))]
    return kept_key, kept_value


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and isinstance(exc.args[0], KafkaError):
        return str(exc.args[0].name())
    return type(exc).__name__


class DeadLetterQueue:
    """A transactional producer to the DLQ topic (see the module docstring for the contract)."""

    def __init__(self, kafka: KafkaSettings, timeout: float = 30.0) -> None:
        self.topic = kafka.dlq_topic
        self._slot = _take_slot()
        self.transactional_id = f"{kafka.group_id}-dlq-{socket.gethostname()}-{os.getpid()}-{self._slot}"
        try:
            self._producer = Producer(
                {
                    **kafka.client_config(),
                    "transactional.id": self.transactional_id,
                    "acks": "all",
                    "message.max.bytes": MAX_MESSAGE_BYTES,
                    "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
                    "message.timeout.ms": TRANSACTION_TIMEOUT_MS,
                }
            )
            # Fences a crashed predecessor with this transactional.id and aborts what it left open.
            self._producer.init_transactions(timeout)
            self.limit = min(MAX_MESSAGE_BYTES, topic_limit(kafka) or MAX_MESSAGE_BYTES)
        except BaseException:
            self.close()
            raise

    def _letter(self, invalid: InvalidMessage, now: bytes) -> tuple[bytes | None, bytes | None, list[Header]]:
        src = invalid.message
        key, value = src.key(), src.value()
        headers: list[Header] = [
            ("x-stockwatch-dlq-reason", invalid.detail[:REASON_MAX_CHARS].encode()),
            ("x-stockwatch-dlq-reason-class", invalid.reason.value.encode()),
            ("x-stockwatch-source-topic", (src.topic() or "").encode()),
            ("x-stockwatch-source-partition", str(src.partition()).encode()),
            ("x-stockwatch-source-offset", str(src.offset()).encode()),
            ("x-stockwatch-dlq-time", now),
            ("x-stockwatch-original-key-bytes", str(len(key or b"")).encode()),
            ("x-stockwatch-original-value-bytes", str(len(value or b"")).encode()),
        ]
        room = self.limit - RECORD_MARGIN - sum(len(k) + len(v) for k, v in headers)
        room -= len("x-stockwatch-dlq-truncated") + len("false")
        kept_key, kept_value = fit(key, value, room)
        truncated = (kept_key, kept_value) != (key, value)
        headers.append(("x-stockwatch-dlq-truncated", b"true" if truncated else b"false"))
        return kept_key, kept_value, headers

    def send(
        self,
        letters: list[InvalidMessage],
        offsets: list[TopicPartition],
        consumer: Consumer,
        *,
        before_commit: Callable[[], None] | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Dead-letter `letters` and commit `offsets` for `consumer`'s group, atomically; raise
        `DeadLetterError` (the transaction aborted) otherwise."""
        errors: list[KafkaError] = []

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err)

        now = datetime.now(UTC).isoformat().encode()
        try:
            self._producer.begin_transaction()
            for invalid in letters:
                key, value, headers = self._letter(invalid, now)
                wire: WireHeaders = [*headers]
                while True:
                    try:
                        self._producer.produce(self.topic, value=value, key=key, headers=wire, on_delivery=on_delivery)
                        break
                    except BufferError:  # the local queue is full: let deliveries (or their timeouts) drain it
                        self._producer.poll(0.5)
            left = self._producer.flush(timeout)
            if left or errors:
                raise DeadLetterError(
                    f"dead-letter topic {self.topic}: {left} unsent, {len(errors)} refused "
                    f"({', '.join(e.str() for e in errors[:3])})",
                    errors[0].name() if errors else "_MSG_TIMED_OUT",
                )
            if before_commit is not None:
                before_commit()
            self._producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), timeout)
            self._producer.commit_transaction(timeout)
        except Exception as exc:
            error = exc.error if isinstance(exc, DeadLetterError) else _error_name(exc)
            metrics.DEAD_LETTER_FAILURES.inc(len(letters))
            log.error(
                "dead letters not committed; the batch will be replayed",
                topic=self.topic, error=error, letters=len(letters), detail=str(exc),
            )  # fmt: skip
            self._abort()
            if isinstance(exc, KafkaException):
                raise DeadLetterError(f"dead-letter topic {self.topic}: {exc}", error) from exc
            raise
        for invalid in letters:
            metrics.DLQ_MESSAGES.labels(invalid.reason.value).inc()

    def _abort(self) -> None:
        try:
            self._producer.abort_transaction(TRANSACTION_TIMEOUT_MS / 1000)
        except KafkaException as exc:  # not in a transaction, or the producer is fenced/fatal: nothing to undo
            log.warning("dead-letter transaction abort failed", error=str(exc))

    def close(self) -> None:
        with _slots_lock:
            _slots.discard(self._slot)
