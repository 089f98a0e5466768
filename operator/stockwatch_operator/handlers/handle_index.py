"""The in-memory index of watchlists by API key, which the rate-budget check reads (no API calls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from stockwatch_operator.budget import BudgetEntry
from stockwatch_operator.model import Watchlist

BudgetKey = tuple[str, str, str]


def budget_keys(body: Mapping[str, Any]) -> dict[BudgetKey, BudgetEntry] | None:
    """{(namespace, secret, key): entry} for watchlists that spend a Finnhub key; None for the rest."""
    try:
        watchlist = Watchlist.from_body(body)
    except (ValidationError, KeyError):
        return None  # the reconcile handler reports it; the index just leaves it out
    key = watchlist.budget_key
    return {key: BudgetEntry.of(watchlist)} if key else None
