"""The producer: events from a source -> the `stock_prices` topic, keyed by symbol.

Delivery guarantees: idempotent producer (`enable.idempotence`, `acks=all`), so broker restarts and
retries neither lose acknowledged events nor duplicate them in the log; every event is validated
against the JSON Schema before it is sent; every send has a delivery callback that counts the outcome.
`close()` flushes whatever is still queued (SIGTERM path); what is still undelivered when its timeout ends is
purged, counted as failed and reported (`PublishStats.undelivered`): the CLI then exits non-zero. librdkafka's
own log lines go through structlog (`KafkaSettings.client_config`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from confluent_kafka import KafkaError, Message, Producer

from stockwatch import metrics
from stockwatch.config import KafkaConfig, KafkaSettings
from stockwatch.events import InvalidEventError, MarketEvent, validate_doc

log = structlog.get_logger(__name__)

PRODUCER_DEFAULTS: KafkaConfig = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 20,
    "batch.num.messages": 10_000,
    "queue.buffering.max.messages": 500_000,
    "message.timeout.ms": 300_000,
}


@dataclass
class PublishStats:
    published: int = 0
    failed: int = 0
    invalid: int = 0
    undelivered: int = 0  # of `failed`: still queued when the producer stopped (purged)
    by_symbol: dict[str, int] = field(default_factory=dict)


class Publisher:
    """Sends `MarketEvent`s to Kafka; counts acknowledgements in `stats` and in Prometheus metrics."""

    def __init__(self, kafka: KafkaSettings, overrides: KafkaConfig | None = None, validate: bool = True) -> None:
        self.topic = kafka.topic
        self.validate = validate
        self.stats = PublishStats()
        self._producer = Producer({**kafka.client_config(), **PRODUCER_DEFAULTS, **(overrides or {})})
        self._last: dict[str, tuple[float, datetime]] = {}
        self._published: dict[str, Any] = {}

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.stats.failed += 1
            metrics.QUOTES_FAILED.labels("delivery_error").inc()
            if err.code() not in (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT):  # close() reports those
                log.error("delivery failed", topic=msg.topic(), error=err.str())
            return
        symbol = (msg.key() or b"").decode()
        self.stats.published += 1
        self.stats.by_symbol[symbol] = self.stats.by_symbol.get(symbol, 0) + 1
        child = self._published.get(symbol)
        if child is None:
            child = self._published[symbol] = metrics.QUOTES_PUBLISHED.labels(symbol)
        child.inc()
        latency = msg.latency()
        if latency is not None:
            metrics.PUBLISH_LATENCY.observe(latency)
        if symbol in self._last:
            price, event_time = self._last[symbol]
            metrics.LAST_PRICE.labels(symbol).set(price)
            metrics.SOURCE_LAG.labels(symbol).set((datetime.now(UTC) - event_time).total_seconds())

    def publish(self, event: MarketEvent) -> bool:
        """Queue one event (validated first). False if it was refused as invalid."""
        doc = event.to_doc()
        if self.validate:
            try:
                validate_doc(doc)
            except InvalidEventError as exc:
                self.stats.invalid += 1
                metrics.QUOTES_FAILED.labels("invalid").inc()
                log.warning("event refused by the schema; not published", symbol=event.symbol, reason=exc.reason)
                return False
        payload = orjson.dumps(doc)
        self._last[event.symbol] = (event.price, event.event_time)
        while True:
            try:
                self._producer.produce(self.topic, payload, event.key, on_delivery=self._on_delivery)
                break
            except BufferError:
                metrics.QUOTES_FAILED.labels("queue_full").inc()
                self._producer.poll(0.1)  # local queue full: serve callbacks until there is room
        self._producer.poll(0)
        return True

    def poll(self, timeout: float = 0.0) -> int:
        return self._producer.poll(timeout)

    def flush(self, timeout: float = 30.0) -> int:
        """Wait for outstanding deliveries; return how many are still queued."""
        return self._producer.flush(timeout)

    def close(self, timeout: float = 30.0) -> int:
        """Flush for at most `timeout` seconds, then give up on what is left: purged, counted as failed. Returns
        how many messages were left."""
        left = self.flush(timeout)
        if left:
            self._producer.purge(in_queue=True, in_flight=True)
            self._producer.flush(0)  # serve the purged messages' delivery callbacks (counted as failed)
            self.stats.undelivered += left
            log.error("messages not delivered at shutdown", remaining=left, waited_seconds=timeout)
        return left


async def run(
    source_events: AsyncIterator[MarketEvent], publisher: Publisher, stop: asyncio.Event, flush_timeout: float = 30.0
) -> PublishStats:
    """Publish until the source ends or `stop` is set, then flush (for at most `flush_timeout` seconds)."""

    async def pump() -> None:
        async for event in source_events:
            publisher.publish(event)
            if stop.is_set():
                break

    async def serve_callbacks() -> None:
        while True:
            publisher.poll(0)
            await asyncio.sleep(0.05)

    pump_task = asyncio.create_task(pump())
    poller = asyncio.create_task(serve_callbacks())
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({pump_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump_task, poller, stopper):
            task.cancel()
        await asyncio.gather(pump_task, poller, stopper, return_exceptions=True)
        started = time.monotonic()
        await asyncio.to_thread(publisher.close, flush_timeout)
        log.info("producer flushed", seconds=round(time.monotonic() - started, 3), **vars(publisher.stats))
    if not pump_task.cancelled() and (error := pump_task.exception()) is not None:
        raise error
    return publisher.stats
