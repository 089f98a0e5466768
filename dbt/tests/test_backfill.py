"""`stockwatch backfill` on the real fakesnow server: CSV and synthetic history, idempotent loads."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from dbt_seed import query

from stockwatch.backfill import backfill, read_csv, synthetic_history, trading_days
from stockwatch.config import SnowflakeSettings
from stockwatch.warehouse import DAILY_COLUMNS

pytestmark = pytest.mark.warehouse

CSV = """Symbol,Date,Open,High,Low,Close,Volume,Adj Close
aapl,2025-01-02,248.93,249.10,241.82,243.85,55740700,243.26
aapl,2025-01-03,243.36,244.18,241.89,243.36,40244100,242.77
MSFT,2025-01-02,425.53,426.07,414.85,418.58,16896500,416.91
MSFT,2025-01-03,421.08,424.03,419.54,423.35,16662900,421.66
"""


def daily(settings: SnowflakeSettings) -> list[tuple[object, ...]]:
    rows = query(
        settings,
        f"select symbol, trade_date, open, high, low, close, volume, source from "
        f"{settings.database}.RAW_STOCKS.DAILY_PRICES order by symbol, trade_date",
    )
    return [tuple(r) for r in rows.itertuples(index=False)]


def test_csv_backfill_is_idempotent(snowflake_settings: SnowflakeSettings, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    first = backfill(snowflake_settings, ["AAPL"], csv_path=path)
    assert (first.rows, first.symbols) == (4, ["AAPL", "MSFT"])
    loaded = daily(snowflake_settings)
    backfill(snowflake_settings, ["AAPL"], csv_path=path)
    assert daily(snowflake_settings) == loaded
    assert loaded[0][:6] == ("AAPL", date(2025, 1, 2), 248.93, 249.10, 241.82, 243.85)
    assert {r[-1] for r in loaded} == {"csv:history.csv"}


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("symbol,date,open,high,low,close\nAAPL,2025-01-02,1,2,3,oops\n")
    with pytest.raises(ValueError, match=r"bad.csv:2"):
        read_csv(path)
    path.write_text("symbol,open,close\n")
    with pytest.raises(ValueError, match="missing column"):
        read_csv(path)


def test_synthetic_history_is_seeded_trading_days_ending_at_the_anchor() -> None:
    bars = synthetic_history(["AAPL", "MSFT"], 300, end=date(2025, 5, 30), seed=3, anchors={"AAPL": 200.0})
    again = synthetic_history(["AAPL", "MSFT"], 300, end=date(2025, 5, 30), seed=3, anchors={"AAPL": 200.0})
    assert bars == again
    aapl = [b for b in bars if b.symbol == "AAPL"]
    assert len(aapl) == 300
    assert all(b.trade_date.weekday() < 5 for b in aapl)
    assert aapl[-1].trade_date == date(2025, 5, 30)
    assert aapl[-1].close == pytest.approx(200.0)
    assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert len({b.close for b in aapl}) > 290  # a random walk, not a constant
    assert trading_days(date(2025, 6, 2), 2) == [date(2025, 5, 30), date(2025, 6, 2)]


def test_history_skips_nyse_holidays() -> None:
    # 2025: Good Friday 18 Apr, Memorial Day 26 May, Juneteenth 19 Jun, Independence Day 4 Jul,
    # Thanksgiving 27 Nov, Christmas 25 Dec; the exchange traded on Easter Monday and the day after Christmas.
    days = trading_days(date(2025, 12, 31), 250)
    for closed in (date(2025, 4, 18), date(2025, 5, 26), date(2025, 6, 19), date(2025, 7, 4), date(2025, 11, 27)):
        assert closed not in days
    assert date(2025, 12, 25) not in days and date(2025, 12, 26) in days and date(2025, 4, 21) in days
    assert trading_days(date(2025, 7, 7), 2) == [date(2025, 7, 3), date(2025, 7, 7)]
    bars = synthetic_history(["AAPL"], 5, end=date(2025, 7, 7), seed=3)
    assert [b.trade_date for b in bars] == trading_days(date(2025, 7, 7), 5)


def test_synthetic_backfill_replaces_the_same_days(snowflake_settings: SnowflakeSettings) -> None:
    backfill(snowflake_settings, ["NVDA"], days=30, end=date(2025, 5, 30), seed=1)
    backfill(snowflake_settings, ["NVDA"], days=30, end=date(2025, 5, 30), seed=2)
    rows = daily(snowflake_settings)
    assert len(rows) == 30
    assert [r[-1] for r in rows] == ["synthetic"] * 30


def test_dbt_creates_the_same_daily_table_as_backfill() -> None:
    """dbt's on-run-start DDL (macros/raw_tables.sql) and the backfill's DAILY_COLUMNS describe one table."""
    macro = (Path(__file__).parents[1] / "macros" / "raw_tables.sql").read_text()
    columns = re.findall(r"^\s+([A-Z_]+) ([a-z_]+(?:\(\d+\))?(?: not null)?),?$", macro, flags=re.MULTILINE)
    assert [(name, kind.upper()) for name, kind in columns] == list(DAILY_COLUMNS)
