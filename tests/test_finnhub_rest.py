"""The REST client against a local server that speaks Finnhub's API, misbehaviour included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from structlog.testing import capture_logs

from stockwatch import metrics
from stockwatch.config import FinnhubSettings
from stockwatch.events import MarketEvent, validate_payload
from stockwatch.sources.finnhub_rest import FinnhubRestSource
from stockwatch.sources.ratelimit import _budgets
from stockwatch.testing.finnhub_server import FinnhubServer


@pytest.fixture(autouse=True)
def _fresh_budgets() -> None:
    _budgets.clear()


def fetch_one(source: FinnhubRestSource, symbol: str) -> MarketEvent | None:
    return asyncio.run(source.fetch_one(symbol))


async def collect(events: AsyncIterator[MarketEvent]) -> list[MarketEvent]:
    return [event async for event in events]


def sample(name: str, **labels: str) -> float:
    return metrics.PRODUCER.get_sample_value(name, labels) or 0.0


def test_quote_maps_to_a_valid_event(finnhub_settings: FinnhubSettings) -> None:
    event = fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings), "AAPL")
    assert event is not None
    assert event.price == 190.5
    assert event.event_type == "quote"
    assert event.volume is None  # /quote has no volume: never a fake 0
    assert event.prev_close is not None and event.change is not None
    assert abs((datetime.now(UTC) - event.event_time).total_seconds()) < 60  # from the quote's t
    validate_payload(event.to_json())


def test_same_quote_twice_has_the_same_event_id(finnhub_settings: FinnhubSettings) -> None:
    source = FinnhubRestSource(["AAPL"], finnhub_settings)
    body = {"c": 10.0, "d": 1.0, "dp": 10.0, "h": 11.0, "l": 9.0, "o": 9.5, "pc": 9.0, "t": 1_700_000_000}
    first, second = source.to_event("AAPL", body), source.to_event("AAPL", body)
    assert first is not None and second is not None
    assert first.event_id == second.event_id
    assert first.event_time == datetime.fromtimestamp(1_700_000_000, UTC)


def test_zero_quote_is_no_quote_counted_and_logged_once(
    finnhub: FinnhubServer, finnhub_settings: FinnhubSettings
) -> None:
    source = FinnhubRestSource(["NOPE"], finnhub_settings)
    before = sample("stockwatch_zero_quotes_total", symbol="NOPE")
    with capture_logs() as logs:
        assert fetch_one(source, "NOPE") is None
        assert fetch_one(source, "NOPE") is None
    assert sample("stockwatch_zero_quotes_total", symbol="NOPE") == before + 2
    assert sum("zero quote" in entry["event"] for entry in logs) == 1


def test_5xx_is_retried_with_backoff(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    finnhub.plan("AAPL", "500", "500")
    event = fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings), "AAPL")
    assert event is not None
    assert [c.status for c in finnhub.calls_for("AAPL")] == [500, 500, 200]


def test_slow_answer_times_out_and_is_retried(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    finnhub.plan("AAPL", ("slow", 2.0))  # longer than the client's 1 s timeout
    event = fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings), "AAPL")
    assert event is not None
    assert len(finnhub.calls_for("AAPL")) == 2


def test_429_honours_retry_after_then_succeeds(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    finnhub.plan("AAPL", ("429", 1.0))
    before = sample("stockwatch_api_rate_limited_total")
    event = fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings), "AAPL")
    assert event is not None
    calls = finnhub.calls_for("AAPL")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.95  # waited out Retry-After before asking again
    assert sample("stockwatch_api_rate_limited_total") == before + 1


# Malformed answers and a refused key: tests/test_finnhub_auth.py.


def test_client_budget_caps_calls_per_second(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    symbols = [f"S{i}" for i in range(12)]
    finnhub.prices.update({s: 10.0 + i for i, s in enumerate(symbols)})
    settings = finnhub_settings.model_copy(update={"calls_per_second": 4, "calls_per_minute": 6000})
    events = asyncio.run(collect(FinnhubRestSource(symbols, settings, max_rounds=1).events()))
    assert sorted(e.symbol for e in events) == sorted(symbols)
    times = sorted(c.at for c in finnhub.calls)
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 4 + 1  # the leaky bucket may let one extra through at a window's edge


def test_429_storm_slows_to_the_budget_and_recovers(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    """The server allows 5 calls/s; the client's budget is set far above it (30/s): 429s must slow it down
    to what the server allows, and every quote must still arrive."""
    symbols = [f"T{i}" for i in range(20)]
    finnhub.prices.update({s: 50.0 + i for i, s in enumerate(symbols)})
    finnhub.rate_limit_per_second = 5
    settings = finnhub_settings.model_copy(update={"calls_per_minute": 6000})
    source = FinnhubRestSource(symbols, settings, max_attempts=10, max_rounds=1)
    events = asyncio.run(collect(source.events()))
    assert sorted(e.symbol for e in events) == sorted(symbols)  # recovered: every quote arrived
    statuses = [c.status for c in finnhub.calls]
    assert statuses.count(429) > 0
    assert statuses.count(200) == len(symbols)


def test_transport_errors_are_retryable() -> None:
    from stockwatch.sources.finnhub_rest import _retryable

    assert _retryable(httpx.ConnectError("boom"))
    assert not _retryable(ValueError("no"))
