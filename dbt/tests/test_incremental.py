"""An incremental run after one more day (and a late event for the day before) stores the same rows
as a full refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from dbt_seed import insert_raw, query, session_rows
from dbt_warehouse import LIVE_DAYS, NEXT_DAY, SYMBOLS, seeded_warehouse

from stockwatch.local.fakesnow import LocalFakesnow

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

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

    # One more session, and a late trade for the last live day that sets a new closing price.
    late = session_rows(SYMBOLS[:1], LIVE_DAYS[-1]).query("event_type == 'trade'").tail(1).copy()
    late["event_id"] = "late-trade-0001"
    late["event_time"] = datetime.combine(LIVE_DAYS[-1], datetime.min.time()) + timedelta(
        hours=20, minutes=59, seconds=59
    )
    late["price"] = late["price"] * 1.05
    insert_raw(w.settings, pd.concat([session_rows(SYMBOLS, NEXT_DAY), late], ignore_index=True))

    w.dbt("run")
    incremental = snapshot(w.settings, w.settings.database)
    w.dbt("run", "--full-refresh")
    full = snapshot(w.settings, w.settings.database)

    for name in MODELS:
        pd.testing.assert_frame_equal(incremental[name], full[name], check_exact=True, obj=name)
    fct = full["MARTS_STOCKS.FCT_DAILY_PRICES"]
    assert len(fct) == len(before["MARTS_STOCKS.FCT_DAILY_PRICES"]) + len(SYMBOLS)
    changed_close = fct[(fct.symbol == SYMBOLS[0]) & (pd.to_datetime(fct.trade_date).dt.date == LIVE_DAYS[-1])]
    assert changed_close.close.iloc[0] == pytest.approx(late.price.iloc[0])
