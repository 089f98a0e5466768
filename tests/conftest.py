"""Fixtures of the pipeline's own suite (the real parts come from stockwatch.testing.plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stockwatch.config import FinnhubSettings
from stockwatch.testing.finnhub_server import FinnhubServer


@pytest.fixture
def finnhub() -> Iterator[FinnhubServer]:
    """A local server speaking Finnhub's REST and websocket API."""
    server = FinnhubServer(prices={"AAPL": 190.5, "MSFT": 410.25, "BINANCE:BTCUSDT": 91000.0}).start()
    yield server
    server.stop()


@pytest.fixture
def finnhub_settings(finnhub: FinnhubServer) -> FinnhubSettings:
    return FinnhubSettings(
        api_key=finnhub.token,
        base_url=finnhub.base_url,
        ws_url=finnhub.ws_url,
        timeout_seconds=1.0,
    )
