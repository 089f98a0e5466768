"""`dbt build` on the real fakesnow server: staging, bars, history, marts and every indicator checked
against an independent pandas computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dbt_reference import INDICATORS, indicators
from dbt_seed import query
from dbt_warehouse import HISTORY_DAYS, LIVE_DAYS, SYMBOLS, Warehouse

from stockwatch.models import run_dbt

pytestmark = [pytest.mark.warehouse, pytest.mark.kafka, pytest.mark.slow]

# Indicators are stored rounded to 8 decimals; pandas and SQL then agree to within one unit there.
ABS_TOLERANCE = 1.5e-8
REL_TOLERANCE = 1e-9


def table(w: Warehouse, name: str, order: str = "1") -> pd.DataFrame:
    return query(w.settings, f"select * from {w.settings.database}.{name} order by {order}")


def test_build_creates_every_model_in_its_schema(built_warehouse: Warehouse) -> None:
    for relation in (
        "STG_STOCKS.STG_FINNHUB__QUOTES",
        "STG_STOCKS.STG_FINNHUB__TRADES",
        "STG_STOCKS.STG_FINNHUB__QUARANTINE",
        "STG_STOCKS.STG_BACKFILL__DAILY_PRICES",
        "INT_STOCKS.INT_MINUTE_BARS",
        "INT_STOCKS.INT_DAILY_OHLC",
        "INT_STOCKS.INT_DAILY_PRICES",
        "MARTS_STOCKS.FCT_DAILY_PRICES",
        "MARTS_STOCKS.DIM_SYMBOLS",
        "MARTS_STOCKS.STOCK_ANALYTICS",
    ):
        rows = query(
            built_warehouse.settings, f"select count(*) as n from {built_warehouse.settings.database}.{relation}"
        )
        assert rows.n.iloc[0] > 0, relation


def test_invalid_events_are_quarantined_not_lost(built_warehouse: Warehouse) -> None:
    quarantine = table(built_warehouse, "STG_STOCKS.STG_FINNHUB__QUARANTINE")
    assert dict(zip(quarantine.event_id, quarantine.reject_reason, strict=True)) == built_warehouse.anomalies.rejected
    staged = query(
        built_warehouse.settings,
        f"select event_id from {built_warehouse.settings.database}.STG_STOCKS.STG_FINNHUB__TRADES "
        f"union all select event_id from {built_warehouse.settings.database}.STG_STOCKS.STG_FINNHUB__QUOTES",
    )
    assert not set(built_warehouse.anomalies.rejected) & set(staged.event_id)
    # Every valid RAW event reaches staging exactly once.
    assert len(staged) == len(built_warehouse.raw) + 1  # + the injected spike quote


def test_duplicates_keep_the_latest_load(built_warehouse: Warehouse) -> None:
    dup = built_warehouse.anomalies.duplicate_id
    quotes = f"{built_warehouse.settings.database}.STG_STOCKS.STG_FINNHUB__QUOTES"
    staged = query(built_warehouse.settings, f"select price from {quotes} where event_id = '{dup}'")
    original = built_warehouse.raw.loc[built_warehouse.raw.event_id == dup, "price"]
    assert staged.price.tolist() == pytest.approx(original.tolist())


def test_spike_flag(built_warehouse: Warehouse) -> None:
    quotes = table(built_warehouse, "STG_STOCKS.STG_FINNHUB__QUOTES", "symbol, event_time, event_id")
    flagged = quotes[quotes.is_spike]
    assert built_warehouse.anomalies.spike_id in set(flagged.event_id)
    # The synthetic market never moves 20 % in a minute: only the spike and the quote after it (back down) flag.
    assert len(flagged) == 2
    assert ((quotes.price / quotes.previous_price - 1).abs()[~quotes.is_spike] <= 0.2).all()


def test_minute_bars_match_pandas(built_warehouse: Warehouse) -> None:
    bars = table(built_warehouse, "INT_STOCKS.INT_MINUTE_BARS", "symbol, bar_minute")
    trades = built_warehouse.raw[built_warehouse.raw.event_type == "trade"].copy()
    trades["bar_minute"] = trades.event_time.dt.floor("min")
    trades = trades.sort_values("event_time")
    expected = (
        trades.groupby(["symbol", "bar_minute"])
        .agg(
            open=("price", "first"),
            high=("price", "max"),
            low=("price", "min"),
            close=("price", "last"),
            volume=("volume", "sum"),
        )
        .reset_index()
    )
    # The injected anomalies are either rejected or quotes in minutes with trades: bars are trades only.
    got = bars[["symbol", "bar_minute", "open", "high", "low", "close", "volume"]].reset_index(drop=True)
    got["bar_minute"] = pd.to_datetime(got.bar_minute)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-12)


def test_daily_series_history_then_live(built_warehouse: Warehouse) -> None:
    daily = table(built_warehouse, "INT_STOCKS.INT_DAILY_PRICES", "symbol, trade_date")
    assert set(daily.symbol) == set(SYMBOLS)
    for _, rows in daily.groupby("symbol"):
        assert len(rows) == HISTORY_DAYS + len(LIVE_DAYS)
        live = rows[rows.source == "live"]
        assert sorted(pd.to_datetime(live.trade_date).dt.date) == LIVE_DAYS
        assert (rows[rows.source != "live"].source == "synthetic").all()


def test_every_indicator_matches_pandas(built_warehouse: Warehouse) -> None:
    fct = table(built_warehouse, "MARTS_STOCKS.FCT_DAILY_PRICES", "symbol, trade_date")
    assert len(fct) == len(SYMBOLS) * (HISTORY_DAYS + len(LIVE_DAYS))
    checked = 0
    for symbol, got in fct.groupby("symbol"):
        got = got.reset_index(drop=True)
        expected = indicators(got[["trade_date", "open", "high", "low", "close", "volume"]])
        for column in INDICATORS:
            a, b = got[column].astype(float).to_numpy(), expected[column].astype(float).to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b)), f"{symbol} {column}: warm-up nulls differ"
            np.testing.assert_allclose(
                a, b, rtol=REL_TOLERANCE, atol=ABS_TOLERANCE, equal_nan=True, err_msg=f"{symbol} {column}"
            )
            checked += int((~np.isnan(b)).sum())
    assert checked > len(SYMBOLS) * len(INDICATORS) * 200
    # The indicators move: a constant or zero column would pass the tolerances vacuously.
    last = fct.groupby("symbol").tail(1)
    assert last.rsi_14.between(0, 100).all()
    assert last.rsi_14.nunique() == len(SYMBOLS)
    assert fct.has_full_52w.sum() > 0


def test_stock_analytics_keeps_the_seed_names(built_warehouse: Warehouse) -> None:
    analytics = table(built_warehouse, "MARTS_STOCKS.STOCK_ANALYTICS", "symbol, date")
    assert {"symbol", "date", "close_price", "ma_7", "ma_30", "daily_change_pct", "rsi_14", "macd"} <= set(
        analytics.columns
    )
    assert len(analytics) == len(SYMBOLS) * (HISTORY_DAYS + len(LIVE_DAYS))


def test_dim_symbols(built_warehouse: Warehouse) -> None:
    dim = table(built_warehouse, "MARTS_STOCKS.DIM_SYMBOLS", "symbol")
    assert sorted(dim.symbol) == sorted(SYMBOLS)
    assert (dim.live_days == len(LIVE_DAYS)).all()
    assert dim.spike_count.sum() == 2


def test_data_tests_fail_on_a_broken_invariant(built_warehouse: Warehouse) -> None:
    """The range test on RSI catches a value outside 0-100 (then the row is put back)."""
    w = built_warehouse
    fct = f"{w.settings.database}.MARTS_STOCKS.FCT_DAILY_PRICES"
    row = query(w.settings, f"select symbol, trade_date, rsi_14 from {fct} where rsi_14 is not null limit 1").iloc[0]
    where = f"symbol = '{row.symbol}' and trade_date = '{row.trade_date}'"
    query(w.settings, f"update {fct} set rsi_14 = 150 where {where}")
    try:
        result = run_dbt(["test", "--select", "fct_daily_prices,test_type:data"], w.settings, target_path=w.target_path)
        assert not result.success
        assert [n.unique_id for n in result.failed()] == [
            n.unique_id for n in result.nodes if "accepted_range_fct_daily_prices_rsi_14" in n.unique_id
        ]
    finally:
        query(w.settings, f"update {fct} set rsi_14 = {row.rsi_14} where {where}")
