"""The loader: Kafka `stock_prices` -> Snowflake `RAW_STOCKS.STOCK_PRICES`, exactly once per event.

A batch runs typed steps (each module documents its contract): `batch.poll_batch` -> `validate.split`
-> `write.WarehouseWriter.write` -> `commit.commit_offsets`, or, when the batch has invalid messages,
`dead_letter.DeadLetterQueue.send` (the dead letters and the offset commit in one Kafka transaction).
Offsets move only after the warehouse transaction has committed, and together with the batch's dead
letters; the warehouse write is a MERGE on EVENT_ID and an aborted dead-letter transaction leaves nothing,
so a crash anywhere replays the batch into nothing new: every message is loaded or dead-lettered, once.
`load_batch` runs one batch (the Airflow task); `run_forever` runs batches back to back (streaming mode).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog
from confluent_kafka import Consumer

from stockwatch import metrics
from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.loader.batch import consumer_lag, poll_batch
from stockwatch.loader.commit import batch_offsets, commit_offsets
from stockwatch.loader.dead_letter import DeadLetterQueue
from stockwatch.loader.validate import split
from stockwatch.loader.write import WarehouseWriter

log = structlog.get_logger(__name__)

# Test-only fault points (STOCKWATCH_FAULT_INJECT): `after_warehouse_commit` raises after the warehouse commit
# and before the offset commit (the window the seed's loader lost data in); `after_dead_letters` raises, and
# `kill_after_dead_letters` SIGKILLs the process, once the broker has acknowledged the dead letters and before
# their transaction (with the offsets) commits.
FAULT_ENV = "STOCKWATCH_FAULT_INJECT"


class InjectedFaultError(RuntimeError):
    pass


@dataclass(frozen=True)
class BatchResult:
    """What one batch did. Small values only: this goes through Airflow XCom."""

    rows_loaded: int
    rows_by_symbol: dict[str, int] = field(default_factory=dict)
    dlq_count: int = 0
    consumer_lag: int = 0
    max_event_time: datetime | None = None
    duration_seconds: float = 0.0
    messages: int = 0


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) != point:
        return
    if point.startswith("kill_"):
        os.kill(os.getpid(), signal.SIGKILL)
    raise InjectedFaultError(f"injected fault: {point}")


def _dead_letters_acknowledged() -> None:
    _fault("after_dead_letters")
    _fault("kill_after_dead_letters")


class Loader:
    """A consumer in the loader's group, a warehouse session and a dead-letter producer."""

    def __init__(self, kafka: KafkaSettings, snowflake: SnowflakeSettings, workdir: Path | None = None) -> None:
        self.kafka = kafka
        # First: its init fences a crashed predecessor's open dead-letter transaction, which would otherwise
        # hold this consumer's committed offsets (UNSTABLE_OFFSET_COMMIT) until the transaction timeout.
        self.dlq = DeadLetterQueue(kafka)
        self.consumer = Consumer(
            {
                **kafka.client_config(),
                "group.id": kafka.group_id,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
            }
        )
        self.consumer.subscribe([kafka.topic])
        self.writer = WarehouseWriter(snowflake, workdir)

    def run_batch(self, max_records: int, max_seconds: float, until_caught_up: bool) -> BatchResult:
        started = time.monotonic()
        try:
            polled = poll_batch(self.consumer, max_records, max_seconds, until_caught_up)
            rows, invalid = split(polled.messages)
            new_rows = self.writer.write(rows)
            if polled.messages:
                _fault("after_warehouse_commit")
            offsets = batch_offsets(polled.messages)
            if invalid:
                self.dlq.send(invalid, offsets, self.consumer, before_commit=_dead_letters_acknowledged)
            else:
                commit_offsets(self.consumer, offsets)
        except Exception:
            metrics.BATCHES.labels("failed").inc()
            raise
        duration = time.monotonic() - started
        max_event_time = max((datetime.fromisoformat(r[13]).replace(tzinfo=UTC) for r in rows), default=None)
        lag = consumer_lag(self.consumer)
        self._record(new_rows, lag, max_event_time, duration)
        return BatchResult(
            rows_loaded=sum(new_rows.values()),
            rows_by_symbol=new_rows,
            dlq_count=len(invalid),
            consumer_lag=lag,
            max_event_time=max_event_time,
            duration_seconds=duration,
            messages=len(polled.messages),
        )

    @staticmethod
    def _record(new_rows: dict[str, int], lag: int, max_event_time: datetime | None, duration: float) -> None:
        """The batch's metrics (the dead letters are counted when their transaction commits: `dead_letter`)."""
        metrics.BATCHES.labels("ok").inc()
        metrics.BATCH_DURATION.observe(duration)
        metrics.CONSUMER_LAG.set(lag)
        metrics.LAST_SUCCESS.set(time.time())
        for symbol, count in new_rows.items():
            metrics.ROWS_LOADED.labels(symbol).inc(count)
        if max_event_time is not None:
            metrics.FRESHNESS.set((datetime.now(UTC) - max_event_time).total_seconds())

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            try:
                self.writer.close()
            finally:
                self.dlq.close()


def load_batch(
    kafka: KafkaSettings,
    snowflake: SnowflakeSettings,
    *,
    max_records: int = 50_000,
    max_seconds: float = 30.0,
) -> BatchResult:
    """Load one bounded batch (stops early once caught up). Safe to retry: see the module docstring."""
    loader = Loader(kafka, snowflake)
    try:
        result = loader.run_batch(max_records, max_seconds, until_caught_up=True)
    finally:
        loader.close()
    log.info("batch loaded", rows=result.rows_loaded, dlq=result.dlq_count, lag=result.consumer_lag)
    return result


def run_forever(
    kafka: KafkaSettings,
    snowflake: SnowflakeSettings,
    stop: threading.Event,
    *,
    flush_seconds: float = 2.0,
    max_records: int = 50_000,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> None:
    """Streaming mode: batches of at most `flush_seconds`, until `stop` is set. A failed batch is
    retried from the last committed offsets by a fresh consumer and warehouse session, with backoff."""
    backoff = 1.0
    while not stop.is_set():
        try:
            loader = Loader(kafka, snowflake)
        except Exception as exc:
            log.error("loader start failed; retrying", error=str(exc), retry_in=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 60)
            continue
        try:
            while not stop.is_set():
                result = loader.run_batch(max_records, flush_seconds, until_caught_up=False)
                backoff = 1.0
                if on_batch is not None:
                    on_batch(result)
        except Exception as exc:
            log.error("batch failed; replaying from the committed offsets", error=str(exc), retry_in=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 60)
        finally:
            loader.close()
