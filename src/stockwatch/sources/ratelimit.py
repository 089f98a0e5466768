"""One request budget per Finnhub API key, shared by every client in the process that uses that key.

Two leaky buckets (aiolimiter) of capacity one, so calls are spaced evenly rather than sent in bursts:
calls per minute (60 on the free plan: one a second) and calls per second (30 on any plan). No window
of the limit's length then holds more than the limit plus one call at its edge. A 429 pauses every
caller of the key until its Retry-After has passed.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from aiolimiter import AsyncLimiter


class KeyBudget:
    def __init__(self, calls_per_minute: int, calls_per_second: int) -> None:
        self.per_minute = AsyncLimiter(1, 60 / calls_per_minute)
        self.per_second = AsyncLimiter(1, 1 / calls_per_second)
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Stop all calls on this key for `seconds` (a 429's Retry-After)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        while (wait := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        await self.per_minute.acquire()
        await self.per_second.acquire()


_budgets: dict[str, KeyBudget] = {}


def budget_for(api_key: str, calls_per_minute: int, calls_per_second: int) -> KeyBudget:
    """The budget of `api_key` (keyed by a hash: the key itself is not kept as a dict key)."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    if digest not in _budgets:
        _budgets[digest] = KeyBudget(calls_per_minute, calls_per_second)
    return _budgets[digest]
