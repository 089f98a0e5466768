"""Operator settings from the environment: what every producer gets, budgets, and the repair interval."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

N = TypeVar("N", int, float)


def _env_number(name: str, default: N, cast: Callable[[str], N]) -> N:
    """A positive number from the environment, or `default` when unset; a clear error when malformed."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be {'an integer' if cast is int else 'a number'}, got {raw!r}") from exc
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


@dataclass(frozen=True)
class OperatorSettings:
    """Defaults that make sense in the stockwatch Helm release; every one is an env variable."""

    producer_image: str = "stockwatch/pipeline:0.1.0"  # images/pipeline; the chart sets the real reference
    image_pull_policy: str = "IfNotPresent"
    kafka_bootstrap_servers: str = "stockwatch-kafka-bootstrap:9092"
    kafka_topic: str = "stock_prices"
    kafka_dlq_topic: str = "stock_prices_dlq"
    kafka_cluster: str = "stockwatch"
    producer_metrics_port: int = 9100
    rest_calls_per_minute: int = 60
    ws_symbols_per_key: int = 50
    ws_connections_per_key: int = 1
    reconcile_interval_seconds: float = 60.0
    metrics_port: int = 8080
    producer_service_account: str = ""

    @classmethod
    def from_env(cls) -> OperatorSettings:
        base = cls()
        env = os.environ.get
        return cls(
            producer_image=env("STOCKWATCH_PRODUCER_IMAGE", base.producer_image),
            image_pull_policy=env("STOCKWATCH_PRODUCER_IMAGE_PULL_POLICY", base.image_pull_policy),
            kafka_bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS", base.kafka_bootstrap_servers),
            kafka_topic=env("KAFKA_TOPIC", base.kafka_topic),
            kafka_dlq_topic=env("KAFKA_DLQ_TOPIC", base.kafka_dlq_topic),
            kafka_cluster=env("STOCKWATCH_KAFKA_CLUSTER", base.kafka_cluster),
            producer_metrics_port=_env_number("STOCKWATCH_PRODUCER_METRICS_PORT", base.producer_metrics_port, int),
            rest_calls_per_minute=_env_number("STOCKWATCH_REST_CALLS_PER_MINUTE", base.rest_calls_per_minute, int),
            ws_symbols_per_key=_env_number("STOCKWATCH_WS_SYMBOLS_PER_KEY", base.ws_symbols_per_key, int),
            ws_connections_per_key=_env_number("STOCKWATCH_WS_CONNECTIONS_PER_KEY", base.ws_connections_per_key, int),
            reconcile_interval_seconds=_env_number(
                "STOCKWATCH_RECONCILE_INTERVAL_SECONDS", base.reconcile_interval_seconds, float
            ),
            metrics_port=_env_number("STOCKWATCH_OPERATOR_METRICS_PORT", base.metrics_port, int),
            producer_service_account=env("STOCKWATCH_PRODUCER_SERVICE_ACCOUNT", ""),
        )
