"""Shared API-key budgets: the oldest watchlists keep theirs; the one that overflows learns by how much."""

from __future__ import annotations

from stockwatch_operator.budget import BudgetEntry, assess
from stockwatch_operator.settings import OperatorSettings

SETTINGS = OperatorSettings()
KEY = "Secret finnhub key api-key"


def rest(uid: str, symbols: int, interval: int = 15, created: str = "2026-01-01T00:00:00Z", **kw: bool) -> BudgetEntry:
    return BudgetEntry(
        uid=uid,
        name=f"wl-{uid}",
        created=created,
        source="finnhub-rest",
        symbols=symbols,
        poll_interval_seconds=interval,
        calls_per_minute=-(-symbols * 60 // interval),
        suspended=kw.get("suspended", False),
    )


def ws(uid: str, symbols: int, created: str = "2026-01-01T00:00:00Z") -> BudgetEntry:
    return BudgetEntry(uid, f"wl-{uid}", created, "finnhub-ws", symbols, 15, 0, False)


def test_single_watchlist_within_budget() -> None:
    verdict = assess(rest("a", 10), [], KEY, SETTINGS)
    assert verdict.within
    assert verdict.message == "finnhub-rest uses 40 of 60 calls/min on Secret finnhub key api-key"


def test_second_watchlist_overflows_and_is_told_by_how_much() -> None:
    first = rest("a", 10, created="2026-01-01T00:00:00Z")
    second = rest("b", 6, created="2026-01-02T00:00:00Z")
    assert assess(first, [first, second], KEY, SETTINGS).within
    verdict = assess(second, [first, second], KEY, SETTINGS)
    assert not verdict.within
    assert verdict.reason == "OverBudget"
    assert "needs 24 calls/min (6 symbols every 15s)" in verdict.message
    assert "has 20 of 60 calls/min left (shared with wl-a): over by 4 calls/min" in verdict.message
    assert "set pollIntervalSeconds to at least 18, keep at most 5 symbols" in verdict.message


def test_budget_freed_by_suspend() -> None:
    first = rest("a", 10, suspended=True)
    second = rest("b", 6, created="2026-01-02T00:00:00Z")
    assert assess(second, [first, second], KEY, SETTINGS).within
    suspended = assess(first, [first, second], KEY, SETTINGS)
    assert suspended.within
    assert suspended.reason == "Suspended"


def test_a_smaller_later_watchlist_still_fits() -> None:
    big = rest("big", 50, created="2026-01-02T00:00:00Z")  # 200/min: never fits
    small = rest("small", 5, created="2026-01-03T00:00:00Z")
    assert not assess(big, [big, small], KEY, SETTINGS).within
    assert assess(small, [big, small], KEY, SETTINGS).within


def test_exhausted_key_says_use_another() -> None:
    first = rest("a", 15)  # 60/min
    second = rest("b", 1, created="2026-01-02T00:00:00Z")
    verdict = assess(second, [first, second], KEY, SETTINGS)
    assert "has 0 of 60 calls/min left" in verdict.message
    assert "Fix: use another API key" in verdict.message


def test_websocket_connection_cap() -> None:
    first = ws("a", 10)
    second = ws("b", 5, created="2026-01-02T00:00:00Z")
    assert assess(first, [first, second], KEY, SETTINGS).within
    verdict = assess(second, [first, second], KEY, SETTINGS)
    assert not verdict.within
    assert "allows 1 websocket connection(s) and wl-a already use it: over by 1 connection" in verdict.message


def test_websocket_symbol_cap() -> None:
    settings = OperatorSettings(ws_connections_per_key=2)
    first = ws("a", 40)
    second = ws("b", 15, created="2026-01-02T00:00:00Z")
    verdict = assess(second, [first, second], KEY, settings)
    assert not verdict.within
    assert "needs 15 symbols but Secret finnhub key api-key has 10 of 50 left" in verdict.message
    assert "over by 5 symbols" in verdict.message


def test_rest_and_ws_budgets_are_separate() -> None:
    entries = [rest("a", 15), ws("b", 50)]
    assert all(assess(e, entries, KEY, SETTINGS).within for e in entries)


def test_synthetic_needs_no_key() -> None:
    entry = BudgetEntry("s", "syn", "", "synthetic", 500, 1, 0, False)
    assert assess(entry, [], KEY, SETTINGS).reason == "NoKeyNeeded"
