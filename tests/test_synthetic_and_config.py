"""The synthetic market's determinism and shape; configuration from the environment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stockwatch.config import DEFAULT_SYMBOLS, FinnhubSettings, SnowflakeSettings, SymbolSettings, parse_symbols
from stockwatch.events import validate_payload
from stockwatch.sources.synthetic import SyntheticMarket, intraday_volume_factor

START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def market(seed: int = 1, ticks: int = 200) -> SyntheticMarket:
    return SyntheticMarket(["AAPL", "TSLA"], seed=seed, start=START, realtime=False, max_ticks=ticks, tick_seconds=60)


def test_same_seed_same_events_other_seed_other_prices() -> None:
    first, again, other = list(market().ticks()), list(market().ticks()), list(market(seed=2).ticks())
    assert [e.model_dump() for e in first] == [e.model_dump() for e in again]
    assert [e.price for e in first] != [e.price for e in other]
    assert len({e.event_id for e in first}) == len(first) == 400


def test_events_are_valid_and_consistent() -> None:
    for event in market().ticks():
        validate_payload(event.to_json())
        assert event.price > 0 and event.volume is not None and event.volume >= 1
        assert event.day_low is not None and event.day_high is not None
        assert event.day_low <= event.price <= event.day_high


def test_log_returns_have_the_configured_scale() -> None:
    import numpy as np

    prices = np.array([e.price for e in market(ticks=2000).ticks() if e.symbol == "AAPL"])
    returns = np.diff(np.log(prices))
    per_year = returns.std() * np.sqrt(252 * 6.5 * 60)  # one-minute ticks
    assert 0.1 < per_year < 0.8  # within the volatilities the generator draws (0.2-0.6), with sampling noise


def test_volume_is_u_shaped_over_the_session() -> None:
    open_, noon, close = (
        intraday_volume_factor(START.replace(hour=h, minute=m)) for h, m in ((14, 31), (17, 45), (20, 59))
    )
    assert open_ > noon < close


def test_stocks_variable_overrides_the_ten_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SymbolSettings().stocks == list(DEFAULT_SYMBOLS)
    monkeypatch.setenv("STOCKS", "aapl, MSFT  brk.b,AAPL")
    assert SymbolSettings().stocks == ["AAPL", "MSFT", "BRK.B"]
    with pytest.raises(ValueError, match="empty"):
        parse_symbols(" , ")


def test_secrets_never_show_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINNHUB_API_KEY", "fh-secret-1")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "sf-secret-2")
    text = repr(FinnhubSettings()) + repr(SnowflakeSettings()) + str(SnowflakeSettings().model_dump())
    assert "fh-secret-1" not in text and "sf-secret-2" not in text
    assert SnowflakeSettings().connect_kwargs()["password"] == "sf-secret-2"


def test_real_snowflake_gets_no_local_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SNOWFLAKE_HOST", "SNOWFLAKE_PORT", "SNOWFLAKE_PROTOCOL"):
        monkeypatch.delenv(key, raising=False)
    real = SnowflakeSettings(account="xy12345.eu-west-1", user="loader").connect_kwargs()
    assert "host" not in real
    assert "port" not in real
    local = SnowflakeSettings().connect_kwargs()
    assert (local["host"], local["port"], local["protocol"]) == ("127.0.0.1", 8765, "http")
