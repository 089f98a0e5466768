"""The watchlist as the operator sees it: a typed, validated view of a StockWatchlist body.

The API server already enforces the CRD schema; this model repeats the defaults so the operator
behaves the same on an object written before a default existed, and refuses (PermanentError)
rather than crashes on anything unexpected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["finnhub-rest", "finnhub-ws", "synthetic"]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


class SecretKeyRef(_Model):
    name: str
    key: str = "api-key"


class TopicSpec(_Model):
    name: str
    partitions: int = 3
    replicas: int = 3
    cluster: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)


class PodMonitorSpec(_Model):
    enabled: bool = False
    interval: str = "30s"
    labels: dict[str, str] = Field(default_factory=dict)


class Resources(_Model):
    requests: dict[str, str | int] = Field(default_factory=dict)
    limits: dict[str, str | int] = Field(default_factory=dict)


class WatchlistSpec(_Model):
    symbols: list[str] = Field(min_length=1)
    source: Source = "finnhub-rest"
    poll_interval_seconds: int = Field(default=15, alias="pollIntervalSeconds", ge=1)
    api_key_secret_ref: SecretKeyRef | None = Field(default=None, alias="apiKeySecretRef")
    topic: TopicSpec | None = None
    max_symbols_per_producer: int = Field(default=25, alias="maxSymbolsPerProducer", ge=1)
    suspend: bool = False
    pod_monitor: PodMonitorSpec = Field(default_factory=PodMonitorSpec, alias="podMonitor")
    resources: Resources | None = None


class Watchlist(_Model):
    """name/namespace/uid/generation + spec: everything the builders need, nothing from the API client."""

    name: str
    namespace: str
    uid: str
    generation: int = 1
    creation_timestamp: str = ""
    spec: WatchlistSpec

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Watchlist:
        meta = body.get("metadata", {})
        return cls(
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta["uid"],
            generation=int(meta.get("generation", 1)),
            creation_timestamp=str(meta.get("creationTimestamp", "")),
            spec=WatchlistSpec.model_validate(dict(body.get("spec", {}))),
        )

    @property
    def budget_key(self) -> tuple[str, str, str] | None:
        """Watchlists naming the same Secret and key (in one namespace) share one Finnhub API key."""
        ref = self.spec.api_key_secret_ref
        if ref is None or self.spec.source == "synthetic":
            return None
        return (self.namespace, ref.name, ref.key)
