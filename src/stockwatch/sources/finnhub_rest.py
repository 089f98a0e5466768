"""Finnhub REST `/quote` polling within one key's budget.

- The token travels in the `X-Finnhub-Token` header (never in a URL that could be logged).
- 429: the key's budget pauses for Retry-After (or a backoff) and the call is retried.
- 5xx, timeouts, connection errors: exponential backoff with jitter (tenacity), then the symbol is
  skipped for this round and counted as `fetch_error`.
- 401 (the key refused): asked once more after `auth_retry_seconds` (a 401 that Finnhub gives once, under load
  or while a new key propagates, costs a second); a second 401 is fatal: `FinnhubKeyRejectedError`, which ends
  the producer with a message naming FINNHUB_API_KEY (never the key). 403 (the plan) is a `fetch_error`.
- An answer that is not a quote (bad JSON, not an object, `c`/`t` missing or not numbers) is `malformed`:
  counted apart from `fetch_error` (network, 5xx after retries, 403), logged, not retried this round.
- The all-zero quote (unknown symbol, or the answer Finnhub gives under load) is "no quote": counted,
  logged once per symbol, not published.
- Event time is the quote's `t` (UTC seconds); the event id is stable for an unchanged quote, so
  polling the same quote twice merges into one RAW row.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    wait_exponential_jitter,
)

from stockwatch import metrics
from stockwatch.config import FinnhubSettings
from stockwatch.events import MarketEvent, event_id
from stockwatch.sources.base import FinnhubKeyRejectedError
from stockwatch.sources.ratelimit import KeyBudget, budget_for

log = structlog.get_logger(__name__)


class RateLimitedError(Exception):
    def __init__(self, retry_after: float | None) -> None:
        super().__init__(f"429 rate limited (Retry-After {retry_after})")
        self.retry_after = retry_after


class TransientError(Exception):
    """5xx: worth retrying."""


class FetchError(Exception):
    """This symbol's quote could not be had this round (reason in the message)."""


class MalformedAnswerError(Exception):
    """Finnhub answered, but not with a quote (what is wrong in the message; never the body itself)."""


class UnauthorizedError(Exception):
    """HTTP 401: the key was refused (Finnhub's reason in the message)."""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RateLimitedError | TransientError | httpx.TimeoutException | httpx.TransportError)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class FinnhubRestSource:
    """Polls `/quote` for each symbol every `poll_interval` seconds."""

    name = "finnhub-rest"

    def __init__(
        self,
        symbols: list[str],
        settings: FinnhubSettings,
        poll_interval: float = 15.0,
        max_attempts: int = 5,
        max_rounds: int | None = None,
        auth_retry_seconds: float = 1.0,
    ) -> None:
        if settings.api_key is None:
            raise ValueError("the finnhub-rest source needs FINNHUB_API_KEY")
        self.symbols = symbols
        self.settings = settings
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.max_rounds = max_rounds
        self.auth_retry_seconds = auth_retry_seconds
        self.budget: KeyBudget = budget_for(
            settings.api_key.get_secret_value(), settings.calls_per_minute, settings.calls_per_second
        )
        self._zero_logged: set[str] = set()

    def _client(self) -> httpx.AsyncClient:
        assert self.settings.api_key is not None
        return httpx.AsyncClient(
            base_url=self.settings.base_url,
            headers={"X-Finnhub-Token": self.settings.api_key.get_secret_value()},
            timeout=self.settings.timeout_seconds,
        )

    @staticmethod
    def _should_retry(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, UnauthorizedError):
            return state.attempt_number < 2  # one more try for a 401; the second one means the key
        return exc is not None and _retryable(exc)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, UnauthorizedError):
            log.warning("Finnhub refused the key (HTTP 401); asking once more", retry_in=self.auth_retry_seconds)
            return self.auth_retry_seconds
        backoff = wait_exponential_jitter(multiplier=0.5, max=30)(state)
        if isinstance(exc, RateLimitedError):
            pause = exc.retry_after if exc.retry_after is not None else backoff
            self.budget.pause(pause)
            return 0.0  # the budget itself holds every caller of this key back
        return backoff

    async def _get_quote(self, client: httpx.AsyncClient, symbol: str) -> dict[str, Any]:
        await self.budget.acquire()
        response = await client.get("/quote", params={"symbol": symbol})
        metrics.API_CALLS.labels("quote", str(response.status_code)).inc()
        if response.status_code == 429:
            metrics.API_RATE_LIMITED.inc()
            raise RateLimitedError(_retry_after(response.headers))
        if response.status_code >= 500:
            raise TransientError(f"HTTP {response.status_code}")
        if response.status_code == 401:
            raise UnauthorizedError(self._reason(response))
        if response.status_code == 403:
            raise FetchError(f"HTTP 403 {self._reason(response)}: not in the plan of FINNHUB_API_KEY")
        if response.status_code != 200:
            raise FetchError(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedAnswerError("not JSON") from None
        if not isinstance(body, dict):
            raise MalformedAnswerError(f"a JSON {type(body).__name__}, not an object")
        return body

    def _reason(self, response: httpx.Response) -> str:
        """Finnhub's `{"error": ...}` of a refusal, short, with the key blanked should it ever be echoed."""
        try:
            body = response.json()
            reason = str(body.get("error") or body) if isinstance(body, dict) else str(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            reason = response.text
        assert self.settings.api_key is not None
        key = self.settings.api_key.get_secret_value()
        reason = reason[:200].replace(key, "***") if key else reason[:200]
        return f"HTTP {response.status_code} {reason!r}"

    async def fetch(self, client: httpx.AsyncClient, symbol: str) -> MarketEvent | None:
        """One symbol's quote, or None (zero quote, or failure after retries: both counted)."""
        try:
            async for attempt in AsyncRetrying(
                retry=self._should_retry,
                wait=self._wait,
                stop=stop_after_attempt(self.max_attempts),
                reraise=True,
            ):
                with attempt:
                    body = await self._get_quote(client, symbol)
        except UnauthorizedError as exc:
            raise FinnhubKeyRejectedError(f"{exc} twice, {self.auth_retry_seconds:g} s apart") from None
        except MalformedAnswerError as exc:
            metrics.QUOTES_FAILED.labels("malformed").inc()
            log.warning("malformed /quote answer; not published", symbol=symbol, error=str(exc))
            return None
        except (FetchError, RateLimitedError, TransientError, httpx.HTTPError) as exc:
            metrics.QUOTES_FAILED.labels("fetch_error").inc()
            log.warning("quote fetch failed", symbol=symbol, error=str(exc) or type(exc).__name__)
            return None
        return self.to_event(symbol, body)

    async def fetch_one(self, symbol: str) -> MarketEvent | None:
        """`fetch` with a client of its own: one quote now (checks, tests)."""
        async with self._client() as client:
            return await self.fetch(client, symbol)

    def to_event(self, symbol: str, body: dict[str, Any]) -> MarketEvent | None:
        try:
            if "c" not in body or "t" not in body:
                raise KeyError("c" if "c" not in body else "t")
            price, ts = float(body["c"] or 0), int(body["t"] or 0)
            if price <= 0 or ts <= 0:
                metrics.ZERO_QUOTES.labels(symbol).inc()
                if symbol not in self._zero_logged:
                    self._zero_logged.add(symbol)
                    log.warning("zero quote: unknown symbol or no data; not published", symbol=symbol)
                return None

            def num(key: str) -> float | None:
                value = body.get(key)
                return None if value is None else float(value)

            metrics.QUOTES_FETCHED.labels(self.name, symbol).inc()
            return MarketEvent(
                event_id=event_id(self.name, symbol, ts, price),
                event_type="quote",
                symbol=symbol,
                price=price,
                change=num("d"),
                change_pct=num("dp"),
                day_open=num("o"),
                day_high=num("h"),
                day_low=num("l"),
                prev_close=num("pc"),
                event_time=datetime.fromtimestamp(ts, UTC),
                ingest_time=datetime.now(UTC),
                source="finnhub-rest",
            )
        except (KeyError, TypeError, ValueError) as exc:
            metrics.QUOTES_FAILED.labels("malformed").inc()
            log.warning("malformed /quote answer; not published", symbol=symbol, error=f"{type(exc).__name__}: {exc}")
            return None

    async def events(self) -> AsyncIterator[MarketEvent]:
        rounds = 0
        loop = asyncio.get_running_loop()
        async with self._client() as client:
            while self.max_rounds is None or rounds < self.max_rounds:
                started = loop.time()
                tasks = [asyncio.create_task(self.fetch(client, s)) for s in self.symbols]
                try:
                    for task in asyncio.as_completed(tasks):
                        event = await task
                        if event is not None:
                            yield event
                finally:  # a fatal error (the key refused) or the consumer stopping: the round's others go too
                    for pending in tasks:
                        pending.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                rounds += 1
                if self.max_rounds is None or rounds < self.max_rounds:
                    await asyncio.sleep(max(0.0, self.poll_interval - (loop.time() - started)))
