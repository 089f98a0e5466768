"""RAW rows for the dbt tests: live sessions from the pipeline's synthetic market, plus the invalid and
duplicate events that staging must keep out (and count), written with the backfill's bulk insert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from stockwatch.backfill import insert_frame
from stockwatch.config import SnowflakeSettings
from stockwatch.events import MarketEvent, event_id
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.warehouse import RAW_COLUMN_NAMES, connect

SESSION_OPEN = time(14, 30)  # UTC
SESSION_MINUTES = 390


def _row(e: MarketEvent, loaded_at: datetime, offset: int, event_type: str | None = None) -> dict[str, object]:
    kind = event_type or e.event_type
    return {
        "event_id": e.event_id if event_type is None else event_id("quote", e.event_id),
        "schema_version": 1,
        "event_type": kind,
        "symbol": e.symbol,
        "price": e.price,
        "change": e.change,
        "change_pct": e.change_pct,
        "day_open": e.day_open,
        "day_high": e.day_high,
        "day_low": e.day_low,
        "prev_close": e.prev_close,
        "volume": e.volume if kind == "trade" else None,
        "conditions": None,
        "event_time": e.event_time.replace(tzinfo=None),
        "ingest_time": e.ingest_time.replace(tzinfo=None),
        "source": e.source,
        "kafka_topic": "stock_prices",
        "kafka_partition": 0,
        "kafka_offset": offset,
        "loaded_at": loaded_at,
    }


def session_rows(symbols: list[str], day: date, *, seed: int = 7, tick_seconds: int = 30) -> pd.DataFrame:
    """One regular session of `day` for `symbols`: a trade every `tick_seconds`, a quote each minute."""
    start = datetime.combine(day, SESSION_OPEN, tzinfo=UTC)
    market = SyntheticMarket(
        symbols,
        seed=seed,
        tick_seconds=tick_seconds,
        start=start,
        realtime=False,
        max_ticks=SESSION_MINUTES * 60 // tick_seconds,
    )
    loaded_at = start.replace(tzinfo=None) + timedelta(minutes=SESSION_MINUTES + 1)
    rows = []
    for offset, e in enumerate(market.ticks()):
        rows.append(_row(e, loaded_at, offset))
        if e.event_time.second == 0:
            rows.append(_row(e, loaded_at, offset, event_type="quote"))
    return pd.DataFrame(rows)[[c.lower() for c in RAW_COLUMN_NAMES]]


@dataclass(frozen=True)
class Anomalies:
    """Events staging must treat specially: ids per expectation."""

    rejected: dict[str, str]  # event_id -> reject_reason
    duplicate_id: str
    spike_id: str


def anomalies(base: pd.DataFrame) -> tuple[pd.DataFrame, Anomalies]:
    """Invalid, duplicate and spiking events derived from real rows of `base`."""
    trades = base[base.event_type == "trade"]
    quotes = base[base.event_type == "quote"]
    rows = []

    def variant(source: pd.Series, tag: str, **changes: object) -> pd.Series:
        row = source.copy()
        row["event_id"] = event_id("test", tag, source["event_id"])
        for key, value in changes.items():
            row[key] = value
        rows.append(row)
        return row

    zero = variant(trades.iloc[10], "zero", price=0.0)
    negative = variant(trades.iloc[11], "negative", volume=-5.0)
    future = variant(trades.iloc[12], "future", event_time=datetime(2099, 1, 1, 15))
    # A replay of a quote outside the loader's MERGE: same id, loaded earlier; staging keeps the latest load.
    duplicate = quotes.iloc[20].copy()
    duplicate["loaded_at"] = duplicate["loaded_at"] - timedelta(hours=1)
    duplicate["price"] = duplicate["price"] * 1.01
    rows.append(duplicate)
    # A quote 30 % above the previous one, a second after it.
    previous = quotes.iloc[40]
    spike = variant(
        previous,
        "spike",
        price=round(previous["price"] * 1.3, 4),
        event_time=previous["event_time"] + timedelta(seconds=1),
    )
    extra = pd.DataFrame(rows)
    expected = Anomalies(
        rejected={
            zero["event_id"]: "non_positive_price",
            negative["event_id"]: "negative_volume",
            future["event_id"]: "future_event_time",
        },
        duplicate_id=str(duplicate["event_id"]),
        spike_id=str(spike["event_id"]),
    )
    return extra, expected


def insert_raw(settings: SnowflakeSettings, frame: pd.DataFrame) -> None:
    with connect(settings) as conn:
        insert_frame(conn.cursor(), settings.raw_table, frame)
        conn.commit()


def query(settings: SnowflakeSettings, sql: str) -> pd.DataFrame:
    """A statement's result with lower-case column names (committed)."""
    with connect(settings) as conn:
        cur = conn.cursor()
        cur.execute(sql)
        names = [d[0].lower() for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
        conn.commit()
        return frame
