"""Operator metrics (names fixed by the shared contract), served on :8080/metrics."""

from __future__ import annotations

import threading

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter("stockwatch_operator_reconciles_total", "Watchlist reconciles by result.", ["result"])
RECONCILE_DURATION = Histogram(
    "stockwatch_operator_reconcile_duration_seconds",
    "Time to reconcile one watchlist (read children, apply, status).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ERRORS = Counter("stockwatch_operator_errors_total", "Reconcile errors by kind.", ["kind"])
WATCHLISTS = Gauge("stockwatch_operator_watchlists", "Watchlists by condition and status.", ["condition", "status"])
PRODUCERS_DESIRED = Gauge("stockwatch_operator_producers_desired", "Producer replicas the operator wants running.")

for _result in ("success", "error"):
    RECONCILES.labels(result=_result)

_lock = threading.Lock()
_conditions: dict[str, dict[str, str]] = {}
_producers: dict[str, int] = {}


def _publish() -> None:
    counts: dict[tuple[str, str], int] = {}
    for conditions in _conditions.values():
        for condition, status in conditions.items():
            counts[(condition, status)] = counts.get((condition, status), 0) + 1
    for condition in {c for c, _ in counts} | {"Ready", "RateBudget"}:
        for status in ("True", "False", "Unknown"):
            WATCHLISTS.labels(condition=condition, status=status).set(counts.get((condition, status), 0))
    PRODUCERS_DESIRED.set(sum(_producers.values()))


def record(uid: str, conditions: dict[str, str], producers_running: int) -> None:
    """Remember one watchlist's condition statuses and running producers; republish the gauges."""
    with _lock:
        _conditions[uid] = dict(conditions)
        _producers[uid] = producers_running
        _publish()


def forget(uid: str) -> None:
    with _lock:
        _conditions.pop(uid, None)
        _producers.pop(uid, None)
        _publish()
