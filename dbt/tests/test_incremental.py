"""An incremental run after one more day, with late events for the day before and for a day weeks
back, stores the same rows as a full refresh."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from dbt_seed import insert_raw, query, session_rows
from dbt_warehouse import LIVE_DAYS, NEXT_DAY, SYMBOLS, seeded_warehouse

from stockwatch.local.fakesnow import LocalFakesnow

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

WEEKS_BACK = date(2025, 5, 13)  # a Tuesday inside the backfilled history, three weeks before the live days

MODELS = {
    "INT_STOCKS.INT_MINUTE_BARS": "symbol, bar_minute",
    "INT_STOCKS.INT_DAILY_OHLC": "symbol, trade_date",
    "MARTS_STOCKS.FCT_DAILY_PRICES": "symbol, trade_date",
}


def snapshot(settings: object, database: str) -> dict[str, pd.DataFrame]:
    return {
        name: query(settings, f"select * from {database}.{name} order by {order}")  # type: ignore[arg-type]
        for name, order in MODELS.items()
    }


def test_incremental_equals_full_refresh(
    fakesnow_server: LocalFakesnow, tmp_path_factory: pytest.TempPathFactory
) -> None:
    w = seeded_warehouse(fakesnow_server, tmp_path_factory.mktemp("dbt-incremental"))
    w.dbt("run")
    before = snapshot(w.settings, w.settings.database)

    # One more session, loaded with two late trades: one for the last live day that sets a new
    # closing price, one for a day three weeks back (older than any fixed lookback would re-read).
    next_day = session_rows(SYMBOLS, NEXT_DAY)
    late = session_rows(SYMBOLS[:1], LIVE_DAYS[-1]).query("event_type == 'trade'").tail(2).copy()
    late["event_id"] = ["late-trade-0001", "late-trade-0002"]
    late["event_time"] = [
        datetime.combine(LIVE_DAYS[-1], datetime.min.time()) + timedelta(hours=20, minutes=59, seconds=59),
        datetime.combine(WEEKS_BACK, datetime.min.time()) + timedelta(hours=15, minutes=1, seconds=30),
    ]
    late["price"] = late["price"] * 1.05
    late["loaded_at"] = next_day["loaded_at"].max()
    insert_raw(w.settings, pd.concat([next_day, late], ignore_index=True))

    w.dbt("run")
    incremental = snapshot(w.settings, w.settings.database)
    # The minute bars were rebuilt by hour: the late trade three weeks back rebuilds its own hour, not
    # its whole day (the live days were all loaded within `late_arrival_minutes` and are rebuilt whole).
    compiled = (w.target_path / "compiled/stockwatch/models/intermediate/int_minute_bars.sql").read_text()
    for hour in (f"{LIVE_DAYS[-1]} 20:00:00", f"{WEEKS_BACK} 15:00:00", f"{NEXT_DAY} 14:00:00"):
        assert f"'{hour}'::timestamp_ntz" in compiled
    for hour in (f"{WEEKS_BACK} 14:00:00", f"{WEEKS_BACK} 16:00:00"):
        assert f"'{hour}'::timestamp_ntz" not in compiled
    w.dbt("run", "--full-refresh")
    full = snapshot(w.settings, w.settings.database)

    for name in MODELS:
        pd.testing.assert_frame_equal(incremental[name], full[name], check_exact=True, obj=name)
    fct = full["MARTS_STOCKS.FCT_DAILY_PRICES"]
    assert len(fct) == len(before["MARTS_STOCKS.FCT_DAILY_PRICES"]) + len(SYMBOLS)
    changed_close = fct[(fct.symbol == SYMBOLS[0]) & (pd.to_datetime(fct.trade_date).dt.date == LIVE_DAYS[-1])]
    assert changed_close.close.iloc[0] == pytest.approx(late.price.iloc[0])
    bars = incremental["INT_STOCKS.INT_MINUTE_BARS"]
    weeks_back = bars[pd.to_datetime(bars.bar_date).dt.date == WEEKS_BACK]
    assert len(weeks_back) == 1 and weeks_back.close.iloc[0] == pytest.approx(late.price.iloc[1])
