"""Prometheus metrics of the producer and the loader (the contract is docs/metrics.md).

Labels are bounded: `symbol` (a watchlist's symbols), `reason`/`reason_class` (a fixed vocabulary),
never an event id or a free-form message. Producer and loader metrics live in registries of their own, so a
process serves only its role's metrics (plus the standard process_* / python_* ones).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

PRODUCER = CollectorRegistry(auto_describe=True)
LOADER = CollectorRegistry(auto_describe=True)

# -- producer -----------------------------------------------------------------------------------------
QUOTES_FETCHED = Counter(
    "stockwatch_quotes_fetched_total",
    "Quotes or trades received from the source.",
    ["source", "symbol"],
    registry=PRODUCER,
)
QUOTES_PUBLISHED = Counter(
    "stockwatch_quotes_published_total", "Events acknowledged by Kafka (acks=all).", ["symbol"], registry=PRODUCER
)
QUOTES_FAILED = Counter(
    "stockwatch_quotes_failed_total",
    "Events not published, by reason (fetch_error, malformed, invalid, delivery_error, queue_full).",
    ["reason"],
    registry=PRODUCER,
)
ZERO_QUOTES = Counter(
    "stockwatch_zero_quotes_total",
    "All-zero quotes from Finnhub (unknown symbol or no data): not published.",
    ["symbol"],
    registry=PRODUCER,
)
API_CALLS = Counter(
    "stockwatch_api_calls_total",
    "Finnhub REST calls by endpoint and HTTP status.",
    ["endpoint", "status"],
    registry=PRODUCER,
)
API_RATE_LIMITED = Counter("stockwatch_api_rate_limited_total", "Finnhub 429 answers.", registry=PRODUCER)
PUBLISH_LATENCY = Histogram(
    "stockwatch_publish_latency_seconds",
    "From produce() to the broker's acknowledgement.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=PRODUCER,
)
LAST_PRICE = Gauge("stockwatch_last_price", "Last published price.", ["symbol"], registry=PRODUCER)
SOURCE_LAG = Gauge(
    "stockwatch_source_lag_seconds", "Now minus the event time of the last quote.", ["symbol"], registry=PRODUCER
)
WS_RECONNECTS = Counter("stockwatch_ws_reconnects_total", "Finnhub websocket reconnects.", registry=PRODUCER)
WS_GAPS = Counter(
    "stockwatch_ws_gaps_total", "Websocket outages during which trades may have been missed.", registry=PRODUCER
)

# -- loader -------------------------------------------------------------------------------------------
ROWS_LOADED = Counter(
    "stockwatch_loader_rows_loaded_total", "Rows merged into RAW (new rows only).", ["symbol"], registry=LOADER
)
BATCHES = Counter("stockwatch_loader_batches_total", "Loader micro-batches by outcome.", ["outcome"], registry=LOADER)
BATCH_DURATION = Histogram(
    "stockwatch_loader_batch_duration_seconds",
    "One micro-batch: poll, validate, write, commit.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    registry=LOADER,
)
CONSUMER_LAG = Gauge(
    "stockwatch_loader_consumer_lag", "Messages behind the end of the topic after the last commit.", registry=LOADER
)
DLQ_MESSAGES = Counter(
    "stockwatch_loader_dlq_messages_total",
    "Dead letters committed to the dead-letter topic, by class (empty, not_json, not_object, schema).",
    ["reason_class"],
    registry=LOADER,
)
DEAD_LETTER_FAILURES = Counter(
    "stockwatch_loader_dead_letter_failures_total",
    "Dead letters whose transaction failed (nothing of it is in the DLQ; the batch is replayed).",
    registry=LOADER,
)
LAST_SUCCESS = Gauge(
    "stockwatch_loader_last_success_timestamp_seconds",
    "Unix time of the last successful batch commit.",
    registry=LOADER,
)
FRESHNESS = Gauge(
    "stockwatch_loader_freshness_seconds", "Now minus the newest event time loaded into RAW.", registry=LOADER
)


class _Union(Collector):
    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self.registries = tuple(registries)

    def collect(self) -> Iterable[Metric]:
        for registry in self.registries:
            yield from registry.collect()


def serve(port: int, *roles: CollectorRegistry) -> None:
    """Serve /metrics on `port` (0 disables): the given roles' metrics and the standard process metrics."""
    if port:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Union((REGISTRY, *roles)))
        start_http_server(port, registry=registry)
