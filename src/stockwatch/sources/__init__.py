"""Market data sources: the synthetic market, Finnhub REST polling, Finnhub websocket trades."""

from __future__ import annotations

from typing import Literal

from stockwatch.config import FinnhubSettings
from stockwatch.sources.base import FinnhubKeyRejectedError, Source
from stockwatch.sources.finnhub_rest import FinnhubRestSource
from stockwatch.sources.finnhub_ws import FinnhubWebsocketSource
from stockwatch.sources.synthetic import SyntheticMarket

SourceName = Literal["auto", "synthetic", "finnhub-rest", "finnhub-ws"]


def make_source(
    name: SourceName,
    symbols: list[str],
    finnhub: FinnhubSettings,
    *,
    poll_interval: float = 15.0,
    tick_seconds: float = 1.0,
    seed: int = 42,
) -> Source:
    """`auto` is Finnhub REST when FINNHUB_API_KEY is set, else the synthetic market."""
    if name == "auto":
        name = "finnhub-rest" if finnhub.api_key is not None else "synthetic"
    if name == "finnhub-rest":
        return FinnhubRestSource(symbols, finnhub, poll_interval=poll_interval)
    if name == "finnhub-ws":
        return FinnhubWebsocketSource(symbols, finnhub)
    return SyntheticMarket(symbols, seed=seed, tick_seconds=tick_seconds)


__all__ = [
    "FinnhubKeyRejectedError",
    "FinnhubRestSource",
    "FinnhubWebsocketSource",
    "Source",
    "SourceName",
    "SyntheticMarket",
    "make_source",
]
