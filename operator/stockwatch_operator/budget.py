"""Finnhub API-key budgets shared by watchlists (pure: no API calls).

A key is one Secret name + key in one namespace. finnhub-rest watchlists spend calls per minute
(symbols x 60 / pollIntervalSeconds) out of the plan's limit (60/min on the free plan);
finnhub-ws watchlists each hold one websocket and spend symbols out of the per-key symbol cap.
The oldest watchlists (creationTimestamp, then name) keep their budget; a watchlist that does
not fit gets RateBudget=False and no running producer, with a message that says by how much.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from stockwatch_operator.builders import calls_per_minute
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings


@dataclass(frozen=True)
class BudgetEntry:
    """What one watchlist asks of its key. Kept in the operator's in-memory index."""

    uid: str
    name: str
    created: str
    source: str
    symbols: int
    poll_interval_seconds: int
    calls_per_minute: int
    suspended: bool

    @classmethod
    def of(cls, watchlist: Watchlist) -> BudgetEntry:
        return cls(
            uid=watchlist.uid,
            name=watchlist.name,
            created=watchlist.creation_timestamp,
            source=watchlist.spec.source,
            symbols=len(watchlist.spec.symbols),
            poll_interval_seconds=watchlist.spec.poll_interval_seconds,
            calls_per_minute=calls_per_minute(watchlist),
            suspended=watchlist.spec.suspend,
        )


@dataclass(frozen=True)
class Verdict:
    within: bool
    reason: str
    message: str


def _allocate(entries: list[BudgetEntry], settings: OperatorSettings) -> dict[str, bool]:
    """First fit in age order: each watchlist either fits completely in what is left, or gets nothing."""
    calls_left = settings.rest_calls_per_minute
    ws_symbols_left = settings.ws_symbols_per_key
    ws_connections_left = settings.ws_connections_per_key
    fits: dict[str, bool] = {}
    for entry in sorted(entries, key=lambda e: (e.created, e.name)):
        if entry.source == "finnhub-rest":
            fits[entry.uid] = entry.calls_per_minute <= calls_left
            if fits[entry.uid]:
                calls_left -= entry.calls_per_minute
        elif entry.source == "finnhub-ws":
            fits[entry.uid] = entry.symbols <= ws_symbols_left and ws_connections_left >= 1
            if fits[entry.uid]:
                ws_symbols_left -= entry.symbols
                ws_connections_left -= 1
        else:
            fits[entry.uid] = True
    return fits


def assess(me: BudgetEntry, sharing: Iterable[BudgetEntry], key_label: str, settings: OperatorSettings) -> Verdict:
    """The RateBudget verdict for `me` among every watchlist on the same key (`sharing` may include `me`)."""
    if me.source == "synthetic":
        return Verdict(True, "NoKeyNeeded", "the synthetic source makes no Finnhub API calls")
    if me.suspended:
        return Verdict(True, "Suspended", f"suspended: uses none of the budget of {key_label}")
    active = {e.uid: e for e in sharing if not e.suspended}
    active[me.uid] = me
    entries = list(active.values())
    fits = _allocate(entries, settings)
    before = sorted(
        (e for e in entries if fits[e.uid] and e.uid != me.uid and e.source == me.source),
        key=lambda e: (e.created, e.name),
    )
    shared = f" (shared with {', '.join(e.name for e in before)})" if before else ""
    if me.source == "finnhub-rest":
        limit = settings.rest_calls_per_minute
        used = sum(e.calls_per_minute for e in before)
        need = me.calls_per_minute
        if fits[me.uid]:
            return Verdict(
                True, "WithinBudget", f"finnhub-rest uses {need} of {limit} calls/min on {key_label}{shared}"
            )
        left = max(limit - used, 0)
        fix = "use another API key"
        if left > 0:
            interval = math.ceil(me.symbols * 60 / left)
            keep = left * me.poll_interval_seconds // 60
            fix = f"set pollIntervalSeconds to at least {interval}, keep at most {keep} symbols, or use another API key"
        return Verdict(
            False,
            "OverBudget",
            f"finnhub-rest needs {need} calls/min ({me.symbols} symbols every {me.poll_interval_seconds}s) but "
            f"{key_label} has {left} of {limit} calls/min left{shared}: over by {need - left} calls/min. "
            f"Fix: {fix}. No producer runs until it fits.",
        )
    limit = settings.ws_symbols_per_key
    used = sum(e.symbols for e in before)
    if fits[me.uid]:
        return Verdict(True, "WithinBudget", f"finnhub-ws streams {me.symbols} of {limit} symbols on {key_label}")
    if len(before) >= settings.ws_connections_per_key:
        return Verdict(
            False,
            "OverBudget",
            f"{key_label} allows {settings.ws_connections_per_key} websocket connection(s) and "
            f"{', '.join(e.name for e in before)} already use it: over by 1 connection. Fix: use another API key "
            "or merge the symbols into that watchlist. No producer runs until it fits.",
        )
    left = max(limit - used, 0)
    return Verdict(
        False,
        "OverBudget",
        f"finnhub-ws needs {me.symbols} symbols but {key_label} has {left} of {limit} left{shared}: "
        f"over by {me.symbols - left} symbols. Fix: drop {me.symbols - left} symbols or use another API key. "
        "No producer runs until it fits.",
    )
