"""What every source yields: validated `MarketEvent`s, asynchronously."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from stockwatch.events import MarketEvent


class Source(Protocol):
    """A market data source. `events()` runs until cancelled (or, for bounded sources, until done)."""

    name: str

    def events(self) -> AsyncIterator[MarketEvent]: ...
