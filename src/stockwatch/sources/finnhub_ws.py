"""Finnhub websocket trades: subscribe per symbol, keep the socket alive, reconnect and resubscribe.

Protocol-level pings are answered by `websockets`; Finnhub's `{"type":"ping"}` messages count as
liveness. A dropped socket is a gap (trades may have been missed): counted, then the client
reconnects with exponential backoff and jitter and subscribes again. The token is part of the URL
(Finnhub's protocol), so the URL is never logged.

A handshake refused with HTTP 401 (the key) is tried once more after the usual backoff; two in a row are fatal
(`FinnhubKeyRejectedError`, naming FINNHUB_API_KEY, never the key). Messages that are not JSON and trades
without their fields are counted as `malformed` (`stockwatch_quotes_failed_total`), not as network errors.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import structlog
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from stockwatch import metrics
from stockwatch.config import FinnhubSettings
from stockwatch.events import MarketEvent, event_id
from stockwatch.sources.base import FinnhubKeyRejectedError

log = structlog.get_logger(__name__)


class FinnhubWebsocketSource:
    name = "finnhub-ws"

    def __init__(
        self,
        symbols: list[str],
        settings: FinnhubSettings,
        max_backoff: float = 30.0,
        max_reconnects: int | None = None,
    ) -> None:
        if settings.api_key is None:
            raise ValueError("the finnhub-ws source needs FINNHUB_API_KEY")
        self.symbols = symbols
        self.settings = settings
        self.max_backoff = max_backoff
        self.max_reconnects = max_reconnects
        self.reconnects = 0
        self.gaps = 0

    @property
    def _key(self) -> str:
        assert self.settings.api_key is not None
        return self.settings.api_key.get_secret_value()

    @property
    def _url(self) -> str:
        return f"{self.settings.ws_url}?token={self._key}"

    def to_events(self, message: dict[str, Any]) -> list[MarketEvent]:
        """The trades of one `{"type":"trade","data":[...]}` message (malformed items counted, skipped)."""
        events: list[MarketEvent] = []
        now = datetime.now(UTC)
        for index, trade in enumerate(message.get("data") or []):
            try:
                symbol, price, ts_ms = str(trade["s"]), float(trade["p"]), int(trade["t"])
                volume = float(trade.get("v") or 0)
                conditions = [str(c) for c in trade.get("c") or []] or None
                events.append(
                    MarketEvent(
                        event_id=event_id(self.name, symbol, ts_ms, price, volume, conditions, index),
                        event_type="trade",
                        symbol=symbol,
                        price=price,
                        volume=volume,
                        conditions=conditions,
                        event_time=datetime.fromtimestamp(ts_ms / 1000, UTC),
                        ingest_time=now,
                        source="finnhub-ws",
                    )
                )
                metrics.QUOTES_FETCHED.labels(self.name, symbol).inc()
            except (KeyError, TypeError, ValueError) as exc:
                metrics.QUOTES_FAILED.labels("malformed").inc()
                log.warning("malformed trade skipped", error=str(exc))
        return events

    async def _session(self, ws: ClientConnection) -> AsyncIterator[MarketEvent]:
        for symbol in self.symbols:
            await ws.send(json.dumps({"type": "subscribe", "symbol": symbol}))
        async for raw in ws:
            try:
                message = json.loads(raw)
            except json.JSONDecodeError:
                metrics.QUOTES_FAILED.labels("malformed").inc()
                log.warning("malformed websocket message skipped")
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "trade":
                for event in self.to_events(message):
                    yield event
            elif kind == "error":
                log.warning("finnhub websocket error", msg=message.get("msg"))

    async def events(self) -> AsyncIterator[MarketEvent]:
        attempt = 0
        refused = 0  # handshakes refused with 401 in a row
        while True:
            try:
                async with connect(self._url, open_timeout=self.settings.timeout_seconds, ping_interval=20) as ws:
                    log.info("websocket connected", symbols=len(self.symbols))
                    attempt = refused = 0
                    async for event in self._session(ws):
                        yield event
            except InvalidStatus as exc:
                if exc.response.status_code != 401:
                    log.warning("websocket handshake refused", status=exc.response.status_code)
                else:
                    refused += 1
                    reason = exc.response.body.decode(errors="replace")[:200] if exc.response.body else ""
                    reason = reason.replace(self._key, "***")  # should a proxy ever echo it
                    if refused >= 2:
                        raise FinnhubKeyRejectedError(
                            f"websocket handshake answered HTTP 401 {reason!r} twice in a row"
                        ) from None
                    log.warning("Finnhub refused the key (HTTP 401); trying once more")
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                log.warning("websocket dropped", error=type(exc).__name__)
            # The server closed (or we lost) the connection: anything traded meanwhile may be missed.
            self.gaps += 1
            metrics.WS_GAPS.inc()
            if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                return
            delay = min(self.max_backoff, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            await asyncio.sleep(delay)
            self.reconnects += 1
            metrics.WS_RECONNECTS.inc()
