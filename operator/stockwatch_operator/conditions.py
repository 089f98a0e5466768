"""Kubernetes-style status conditions (pure): lastTransitionTime only moves when the status flips."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge(
    previous: Iterable[Mapping[str, Any]], current: Iterable[Condition], generation: int, now: str
) -> list[dict[str, Any]]:
    """The new conditions list, keeping each condition's lastTransitionTime when its status did not change."""
    before = {c.get("type"): c for c in previous}
    merged: list[dict[str, Any]] = []
    for condition in current:
        old = before.get(condition.type)
        changed = old is None or old.get("status") != condition.status
        merged.append(
            {
                "type": condition.type,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message[:4000],
                "observedGeneration": generation,
                "lastTransitionTime": now if changed or not old else old.get("lastTransitionTime", now),
            }
        )
    return merged


def status_of(conditions: Iterable[Mapping[str, Any]], type_: str) -> str | None:
    for condition in conditions:
        if condition.get("type") == type_:
            status = condition.get("status")
            return str(status) if status is not None else None
    return None
