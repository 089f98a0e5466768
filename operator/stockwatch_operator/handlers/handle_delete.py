"""A watchlist went away: the garbage collector removes its children (owner references); forget its metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stockwatch_operator import metrics


def forget(body: Mapping[str, Any]) -> None:
    uid = body.get("metadata", {}).get("uid")
    if uid:
        metrics.forget(str(uid))
