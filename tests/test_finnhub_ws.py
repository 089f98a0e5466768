"""The websocket client against a local server speaking Finnhub's websocket protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from stockwatch.config import FinnhubSettings
from stockwatch.events import MarketEvent, validate_payload
from stockwatch.local.process import wait_for
from stockwatch.sources.finnhub_ws import FinnhubWebsocketSource
from stockwatch.testing.finnhub_server import FinnhubServer


def run_until(
    source: FinnhubWebsocketSource, count: int, script: Callable[[], None], timeout: float = 30
) -> list[MarketEvent]:
    """Run the source in the background while `script` drives the server; collect `count` events."""

    async def go() -> list[MarketEvent]:
        events: list[MarketEvent] = []

        async def consume() -> None:
            async for event in source.events():
                events.append(event)
                if len(events) >= count:
                    return

        task = asyncio.create_task(consume())
        await asyncio.to_thread(script)
        await asyncio.wait_for(task, timeout)
        return events

    return asyncio.run(go())


def test_subscribes_per_symbol_and_maps_trades(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    source = FinnhubWebsocketSource(["AAPL", "MSFT"], finnhub_settings)

    def script() -> None:
        wait_for(lambda: sorted(finnhub.subscriptions) == ["AAPL", "MSFT"], 10, "subscriptions")
        finnhub.push({"type": "ping"})
        finnhub.push("{not json")
        finnhub.push(finnhub.trades("AAPL", 3, start_ms=1_700_000_000_123))

    events = run_until(source, 3, script)
    assert [e.symbol for e in events] == ["AAPL"] * 3
    first = events[0]
    assert first.event_type == "trade"
    assert first.volume == 10 and first.conditions == ["1"]
    assert first.event_time == datetime.fromtimestamp(1_700_000_000.123, UTC)  # from t in milliseconds
    assert len({e.event_id for e in events}) == 3
    for event in events:
        validate_payload(event.to_json())


def test_reconnects_resubscribes_and_counts_the_gap(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    source = FinnhubWebsocketSource(["BINANCE:BTCUSDT"], finnhub_settings, max_backoff=0.5)

    def script() -> None:
        wait_for(lambda: finnhub.subscriptions == ["BINANCE:BTCUSDT"], 10, "first subscription")
        finnhub.push(finnhub.trades("BINANCE:BTCUSDT", 1))
        finnhub.drop_clients()  # as Finnhub does on deployments
        wait_for(lambda: finnhub.subscriptions.count("BINANCE:BTCUSDT") == 2, 10, "resubscription")
        finnhub.push(finnhub.trades("BINANCE:BTCUSDT", 1, start_ms=1_800_000_000_000))

    events = run_until(source, 2, script)
    assert len(events) == 2
    assert source.gaps == 1 and source.reconnects == 1
    assert finnhub.ws_connections == 2


def test_malformed_trade_items_are_skipped(finnhub_settings: FinnhubSettings) -> None:
    source = FinnhubWebsocketSource(["AAPL"], finnhub_settings)
    events = source.to_events({"type": "trade", "data": [{"s": "AAPL"}, {"s": "AAPL", "p": 1.5, "t": 1, "v": 0}]})
    assert len(events) == 1 and events[0].price == 1.5
