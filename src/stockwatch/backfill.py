"""Daily history in RAW, so 52-week figures mean something from the first run.

The free Finnhub plan has no candles, so `stockwatch backfill` loads daily bars into
`RAW_STOCKS.DAILY_PRICES` either from a CSV file or from a seeded synthetic market, and the dbt
staging layer unions them with the daily bars built from live events (history wins on the days it
covers). The table is created if missing; loading the same days again replaces them (idempotent).

CSV columns (header row required, names case-insensitive, extra columns ignored):
`symbol, date, open, high, low, close, volume` — `date` as YYYY-MM-DD (`trade_date` is accepted
too), prices in the quote currency, volume in shares (may be empty).
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import numpy as np
import pandas as pd

from stockwatch.config import SnowflakeSettings
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.warehouse import DAILY_COLUMNS, connect, daily_ddl, daily_table

CSV_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")
_INSERT_BATCH = 5_000


@dataclass(frozen=True)
class DailyBar:
    symbol: str
    trade_date: date
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    source: str


@dataclass(frozen=True)
class BackfillResult:
    rows: int
    symbols: list[str]
    first_date: date | None
    last_date: date | None


def ensure_daily_table(settings: SnowflakeSettings) -> None:
    """Create RAW_STOCKS.DAILY_PRICES if missing (safe on every run)."""
    with connect(settings) as conn:
        conn.cursor().execute(daily_ddl(settings))
        conn.commit()


def trading_days(end: date, days: int) -> list[date]:
    """The `days` NYSE trading days up to and including `end`.

    Weekdays that are not NYSE holidays (python-holidays' NYSE calendar: New Year's Day, Martin Luther King
    Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth, Independence Day, Labor Day,
    Thanksgiving, Christmas, and one-off closures such as national days of mourning).
    """
    closed = holidays.financial_holidays("NYSE")
    out: list[date] = []
    day = end
    while len(out) < days:
        if day.weekday() < 5 and day not in closed:
            out.append(day)
        day -= timedelta(days=1)
    return out[::-1]


def synthetic_anchor(symbol: str, seed: int) -> float:
    """The price the live synthetic market starts from for `symbol`, so history joins the live series."""
    market = SyntheticMarket([symbol], seed=seed, realtime=False, max_ticks=1)
    return next(iter(market.ticks())).price


def synthetic_history(
    symbols: Sequence[str],
    days: int,
    *,
    end: date | None = None,
    seed: int = 42,
    anchors: dict[str, float] | None = None,
) -> list[DailyBar]:
    """`days` NYSE trading days of daily bars per symbol ending at `end` (default: yesterday, UTC).

    Seeded geometric Brownian motion per symbol (annual drift and volatility drawn per symbol), scaled
    so the last close equals the symbol's anchor price: the latest live price when there is one, or
    the synthetic market's starting price. Same arguments, same bars.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    end = end or (datetime.now(UTC).date() - timedelta(days=1))
    dates = trading_days(end, days)
    bars: list[DailyBar] = []
    for symbol in symbols:
        rng = np.random.default_rng([seed, *symbol.encode()])
        drift, vol = rng.normal(0.10, 0.08), rng.uniform(0.18, 0.65)
        dt = 1 / 252
        log_returns = (drift - 0.5 * vol**2) * dt + vol * math.sqrt(dt) * rng.standard_normal(days)
        closes = np.exp(np.cumsum(log_returns))
        anchor = (anchors or {}).get(symbol) or synthetic_anchor(symbol, seed)
        closes *= anchor / closes[-1]
        opens = np.concatenate(([closes[0] / math.exp(log_returns[0])], closes[:-1]))
        opens *= np.exp(rng.normal(0, vol * math.sqrt(dt) * 0.25, days))  # overnight gap
        spread = np.abs(rng.normal(0, vol * math.sqrt(dt) * 0.6, (2, days)))
        highs = np.maximum(opens, closes) * np.exp(spread[0])
        lows = np.minimum(opens, closes) * np.exp(-spread[1])
        volumes = np.round(rng.uniform(2e6, 6e7) * rng.lognormal(0, 0.35, days))
        bars.extend(
            DailyBar(symbol, d, round(o, 4), round(h, 4), round(lo, 4), round(c, 4), float(v), "synthetic")
            for d, o, h, lo, c, v in zip(dates, opens, highs, lows, closes, volumes, strict=True)
        )
    return bars


def read_csv(path: Path) -> list[DailyBar]:
    """Daily bars from a CSV with the documented columns; raises ValueError naming the bad line."""
    bars: list[DailyBar] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {name.strip().lower(): name for name in reader.fieldnames or []}
        if "trade_date" in fields and "date" not in fields:
            fields["date"] = fields["trade_date"]
        missing = [c for c in CSV_COLUMNS if c != "volume" and c not in fields]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(CSV_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                volume = (row.get(fields.get("volume", ""), "") or "").strip()
                bar = DailyBar(
                    symbol=row[fields["symbol"]].strip().upper(),
                    trade_date=date.fromisoformat(row[fields["date"]].strip()),
                    open=float(row[fields["open"]]),
                    high=float(row[fields["high"]]),
                    low=float(row[fields["low"]]),
                    close=float(row[fields["close"]]),
                    volume=float(volume) if volume else None,
                    source=f"csv:{path.name}"[:32],
                )
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{line}: {exc}") from exc
            if bar.close <= 0 or bar.high < bar.low:
                raise ValueError(f"{path}:{line}: close must be > 0 and high >= low")
            bars.append(bar)
    return bars


def insert_frame(cursor: Any, table: str, frame: pd.DataFrame) -> None:
    """Append `frame` (columns in table order) to `table` through an open cursor, in bulk.

    On the local fakesnow server (DuckDB on this machine) the rows travel as one Parquet file read by
    `read_parquet`: thousands of times faster than row inserts through its SQL translation. On
    Snowflake they are inserted in batches of bound rows.
    """
    if frame.empty:
        return
    names = ", ".join(str(c).upper() for c in frame.columns)
    if getattr(cursor.connection, "account", "") == "fakesnow":
        with tempfile.TemporaryDirectory(prefix="stockwatch-insert-") as tmp:
            path = Path(tmp) / "rows.parquet"
            frame.to_parquet(path, index=False)
            database, schema, _ = table.split(".")
            cursor.execute(f"USE SCHEMA {database}.{schema}")
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM read_parquet('{path}')")
        return
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(frame.columns))})"
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]
    for start in range(0, len(rows), _INSERT_BATCH):
        cursor.executemany(insert, rows[start : start + _INSERT_BATCH])


def latest_prices(settings: SnowflakeSettings, symbols: Iterable[str]) -> dict[str, float]:
    """The newest live price per symbol in RAW (empty when RAW has none)."""
    wanted = list(symbols)
    if not wanted:
        return {}
    placeholders = ", ".join(["%s"] * len(wanted))
    with connect(settings) as conn:
        cur = conn.cursor()
        cur.execute(
            f"SELECT SYMBOL, PRICE FROM {settings.raw_table} WHERE SYMBOL IN ({placeholders}) AND PRICE > 0 "
            "QUALIFY ROW_NUMBER() OVER (PARTITION BY SYMBOL ORDER BY EVENT_TIME DESC) = 1",
            wanted,
        )
        return {str(symbol): float(price) for symbol, price in cur.fetchall()}


def load_daily(settings: SnowflakeSettings, bars: Sequence[DailyBar]) -> BackfillResult:
    """Replace the given symbols' days in DAILY_PRICES with `bars`, in one transaction."""
    ensure_daily_table(settings)
    if not bars:
        return BackfillResult(0, [], None, None)
    frame = pd.DataFrame([bar.__dict__ for bar in bars])
    loaded_at = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None))
    table = daily_table(settings)
    with connect(settings) as conn:
        cur = conn.cursor()
        for symbol, group in frame.groupby("symbol"):
            cur.execute(
                f"DELETE FROM {table} WHERE SYMBOL = %s AND TRADE_DATE BETWEEN %s AND %s",
                (symbol, group.trade_date.min().isoformat(), group.trade_date.max().isoformat()),
            )
        frame = frame.assign(loaded_at=loaded_at)[[name.lower() for name, _ in DAILY_COLUMNS]]
        insert_frame(cur, table, frame)
        conn.commit()
    return BackfillResult(
        rows=len(bars),
        symbols=sorted(frame.symbol.unique().tolist()),
        first_date=min(b.trade_date for b in bars),
        last_date=max(b.trade_date for b in bars),
    )


def backfill(
    settings: SnowflakeSettings,
    symbols: Sequence[str],
    *,
    days: int = 365,
    csv_path: Path | None = None,
    seed: int = 42,
    end: date | None = None,
) -> BackfillResult:
    """Load history from `csv_path`, or generate `days` weekdays per symbol anchored on live prices."""
    if csv_path is not None:
        return load_daily(settings, read_csv(csv_path))
    anchors = latest_prices(settings, symbols)
    return load_daily(settings, synthetic_history(symbols, days, end=end, seed=seed, anchors=anchors))
