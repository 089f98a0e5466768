"""Finnhub refusing the key, and answers that are not quotes, against the local Finnhub-speaking server.

A 401 is asked once more (a transient one costs a pause); a second one ends the producer with a message that
names FINNHUB_API_KEY and never the key. Malformed answers are counted as `malformed`, apart from `fetch_error`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from stockwatch import metrics
from stockwatch.config import FinnhubSettings, KafkaSettings
from stockwatch.events import MarketEvent
from stockwatch.sources import FinnhubKeyRejectedError
from stockwatch.sources.finnhub_rest import FinnhubRestSource
from stockwatch.sources.finnhub_ws import FinnhubWebsocketSource
from stockwatch.sources.ratelimit import _budgets
from stockwatch.testing.finnhub_server import FinnhubServer

SECRET = "sk-very-secret-token"  # a wrong key: the server refuses it


@pytest.fixture(autouse=True)
def _fresh_budgets() -> None:
    _budgets.clear()


@pytest.fixture
def wrong_key(finnhub: FinnhubServer) -> FinnhubSettings:
    return FinnhubSettings(api_key=SECRET, base_url=finnhub.base_url, ws_url=finnhub.ws_url, timeout_seconds=1.0)


def failed(reason: str) -> float:
    return metrics.PRODUCER.get_sample_value("stockwatch_quotes_failed_total", {"reason": reason}) or 0.0


def fetch_one(source: FinnhubRestSource, symbol: str) -> MarketEvent | None:
    return asyncio.run(source.fetch_one(symbol))


async def drain(events: AsyncIterator[MarketEvent]) -> list[MarketEvent]:
    return [event async for event in events]


def test_a_key_refused_twice_is_fatal_and_says_what_to_fix(finnhub: FinnhubServer, wrong_key: FinnhubSettings) -> None:
    source = FinnhubRestSource(["AAPL"], wrong_key, auth_retry_seconds=0.3)
    with capture_logs() as logs, pytest.raises(FinnhubKeyRejectedError) as caught:
        fetch_one(source, "AAPL")
    message = str(caught.value)
    assert message.startswith("FINNHUB_API_KEY rejected by Finnhub: HTTP 401 'Invalid API key' twice, 0.3 s apart")
    assert "set FINNHUB_API_KEY to a valid key" in message
    calls = finnhub.calls_for("AAPL")
    assert [c.status for c in calls] == [401, 401]  # asked once more, then no more
    assert calls[1].at - calls[0].at >= 0.25
    assert SECRET not in message and SECRET not in repr(logs)


def test_a_401_once_is_retried_after_a_pause(finnhub: FinnhubServer, finnhub_settings: FinnhubSettings) -> None:
    finnhub.plan("AAPL", "401")  # the right key, refused once
    event = fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings, auth_retry_seconds=0.2), "AAPL")
    assert event is not None and event.price == 190.5
    assert [c.status for c in finnhub.calls_for("AAPL")] == [401, 200]


def test_a_refused_key_ends_the_polling_loop(finnhub: FinnhubServer, wrong_key: FinnhubSettings) -> None:
    symbols = ["AAPL", "MSFT", "TSLA", "NVDA"]
    source = FinnhubRestSource(symbols, wrong_key, poll_interval=0.1, auth_retry_seconds=0.1)
    with pytest.raises(FinnhubKeyRejectedError):
        asyncio.run(asyncio.wait_for(drain(source.events()), 30))  # without the fix: polls (and fails) forever
    assert len(finnhub.calls) <= 2 * len(symbols)  # one round, each symbol asked at most twice


@pytest.mark.parametrize("answer", ["malformed", "missing_fields"])
def test_malformed_answers_have_their_own_reason(
    answer: str, finnhub: FinnhubServer, finnhub_settings: FinnhubSettings
) -> None:
    finnhub.plan("AAPL", answer)
    before = {reason: failed(reason) for reason in ("malformed", "fetch_error")}
    zero_before = metrics.PRODUCER.get_sample_value("stockwatch_zero_quotes_total", {"symbol": "AAPL"}) or 0.0
    with capture_logs() as logs:
        assert fetch_one(FinnhubRestSource(["AAPL"], finnhub_settings), "AAPL") is None
    assert failed("malformed") == before["malformed"] + 1
    assert failed("fetch_error") == before["fetch_error"]  # not a network error
    zero_after = metrics.PRODUCER.get_sample_value("stockwatch_zero_quotes_total", {"symbol": "AAPL"}) or 0.0
    assert zero_after == zero_before  # a body without `c`/`t` is not the all-zero "no quote"
    assert [entry["event"] for entry in logs] == ["malformed /quote answer; not published"]
    assert len(finnhub.calls_for("AAPL")) == 1  # not retried this round


def test_websocket_key_refused_twice_is_fatal(finnhub: FinnhubServer, wrong_key: FinnhubSettings) -> None:
    source = FinnhubWebsocketSource(["AAPL"], wrong_key, max_backoff=0.1)
    with capture_logs() as logs, pytest.raises(FinnhubKeyRejectedError) as caught:
        asyncio.run(asyncio.wait_for(drain(source.events()), 30))  # without the fix: reconnects forever
    assert str(caught.value).startswith("FINNHUB_API_KEY rejected by Finnhub: websocket handshake answered HTTP 401")
    assert finnhub.ws_refused == 2
    assert SECRET not in str(caught.value) and SECRET not in repr(logs)


def test_websocket_malformed_messages_have_their_own_reason(finnhub_settings: FinnhubSettings) -> None:
    source = FinnhubWebsocketSource(["AAPL"], finnhub_settings)
    before = failed("malformed")
    events = source.to_events({"type": "trade", "data": [{"s": "AAPL"}, {"s": "AAPL", "p": "x", "t": 1}]})
    assert events == []
    assert failed("malformed") == before + 2


@pytest.mark.kafka
def test_cli_produce_exits_1_with_the_message_when_the_key_is_refused(
    finnhub: FinnhubServer, kafka_settings: KafkaSettings
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stockwatch", "produce", "--source", "finnhub-rest", "--metrics-port", "0"],
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
             "KAFKA_TOPIC": kafka_settings.topic, "FINNHUB_API_KEY": SECRET, "FINNHUB_BASE_URL": finnhub.base_url,
             "STOCKS": "AAPL,MSFT"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("FINNHUB_API_KEY rejected by Finnhub: HTTP 401 'Invalid API key' twice"), result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert 2 <= len(finnhub.calls) <= 4  # both symbols, each asked at most twice: no retrying forever
