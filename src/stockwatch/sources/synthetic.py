"""A synthetic market: seeded, deterministic geometric Brownian motion with intraday volume.

The same seed, symbols, start time and tick interval give the same events (ids included), so a
restarted producer re-emits identical events and the loader's merge keeps one copy. It is the
default source when no Finnhub key is set, and it feeds the benchmarks and the backfill.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from stockwatch import metrics
from stockwatch.events import MarketEvent, event_id

SECONDS_PER_YEAR = 252 * 6.5 * 3600  # trading seconds: volatility is quoted per trading year


def _symbol_seed(seed: int, symbol: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{symbol}".encode(), digest_size=8).digest(), "big")


def intraday_volume_factor(ts: datetime) -> float:
    """U-shaped volume over the US session (14:30-21:00 UTC): heavy at open and close, light at noon."""
    minutes = (ts.hour * 60 + ts.minute - 870) % 1440  # minutes since 14:30 UTC
    if minutes >= 390:
        return 0.15  # pre/after-market trickle
    x = (minutes - 195) / 195
    return 0.6 + 1.4 * x * x


@dataclass
class _SymbolState:
    symbol: str
    rng: np.random.Generator
    price: float
    drift: float
    volatility: float
    base_volume: float
    day: datetime | None = None
    day_open: float = 0.0
    day_high: float = 0.0
    day_low: float = 0.0
    prev_close: float = 0.0
    day_close: float = 0.0


@dataclass
class SyntheticMarket:
    """GBM prices per symbol. `ticks()` is a pure generator; `events()` paces it in real time."""

    symbols: list[str]
    seed: int = 42
    tick_seconds: float = 1.0
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    realtime: bool = True
    max_ticks: int | None = None
    name: str = "synthetic"

    def _initial(self, symbol: str) -> _SymbolState:
        rng = np.random.default_rng(_symbol_seed(self.seed, symbol))
        price = float(rng.uniform(20, 600))
        return _SymbolState(
            symbol=symbol,
            rng=rng,
            price=price,
            drift=float(rng.normal(0.08, 0.05)),
            volatility=float(rng.uniform(0.2, 0.6)),
            base_volume=float(rng.uniform(200, 5000)),
            prev_close=price,
        )

    def ticks(self) -> Iterator[MarketEvent]:
        """Every symbol once per tick, forever (or `max_ticks` ticks)."""
        states = [self._initial(s) for s in self.symbols]
        dt = self.tick_seconds / SECONDS_PER_YEAR
        tick = 0
        while self.max_ticks is None or tick < self.max_ticks:
            ts = self.start + timedelta(seconds=tick * self.tick_seconds)
            day = ts.replace(hour=0, minute=0, second=0, microsecond=0)
            for st in states:
                shock = float(st.rng.standard_normal())
                st.price *= math.exp((st.drift - 0.5 * st.volatility**2) * dt + st.volatility * math.sqrt(dt) * shock)
                st.price = max(st.price, 0.01)
                if st.day != day:
                    if st.day is not None:
                        st.prev_close = st.day_close
                    st.day, st.day_open, st.day_high, st.day_low = day, st.price, st.price, st.price
                st.day_high, st.day_low = max(st.day_high, st.price), min(st.day_low, st.price)
                st.day_close = st.price
                volume = float(max(1, round(st.base_volume * intraday_volume_factor(ts) * st.rng.lognormal(0, 0.5))))
                change = st.price - st.prev_close
                yield MarketEvent(
                    event_id=event_id("synthetic", self.seed, st.symbol, ts.isoformat()),
                    event_type="trade",
                    symbol=st.symbol,
                    price=round(st.price, 4),
                    change=round(change, 4),
                    change_pct=round(100 * change / st.prev_close, 4),
                    day_open=round(st.day_open, 4),
                    day_high=round(st.day_high, 4),
                    day_low=round(st.day_low, 4),
                    prev_close=round(st.prev_close, 4),
                    volume=volume,
                    event_time=ts,
                    ingest_time=datetime.now(UTC) if self.realtime else ts,
                    source="synthetic",
                )
            tick += 1

    async def events(self) -> AsyncIterator[MarketEvent]:
        """`ticks()`, paced so that a tick is emitted when its event time arrives (when `realtime`)."""
        loop = asyncio.get_running_loop()
        t0, wall0 = self.start, loop.time()
        fetched = {symbol: metrics.QUOTES_FETCHED.labels(self.name, symbol) for symbol in self.symbols}
        for event in self.ticks():
            if self.realtime:
                delay = (event.event_time - t0).total_seconds() - (loop.time() - wall0)
                if delay > 0:
                    await asyncio.sleep(delay)
            fetched[event.symbol].inc()
            yield event
