"""What every source yields: validated `MarketEvent`s, asynchronously."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from stockwatch.events import MarketEvent


class Source(Protocol):
    """A market data source. `events()` runs until cancelled (or, for bounded sources, until done)."""

    name: str

    def events(self) -> AsyncIterator[MarketEvent]: ...


class FinnhubKeyRejectedError(Exception):
    """Finnhub refused FINNHUB_API_KEY (HTTP 401) and kept refusing it: fatal, `str()` says what to fix.
    Never holds the key."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"FINNHUB_API_KEY rejected by Finnhub: {detail}; set FINNHUB_API_KEY to a valid key"
            " (https://finnhub.io/dashboard), or unset it for the synthetic market"
        )
