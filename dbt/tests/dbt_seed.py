"""RAW data for the dbt tests: live sessions from the pipeline's synthetic market, either sent through
the real data path (producer -> Kafka -> loader) or bulk-inserted, plus the invalid and duplicate events
that staging must keep out (and count), which only a writer other than the loader could put in RAW."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic

import pandas as pd

from stockwatch.backfill import insert_frame
from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.events import MarketEvent, event_id
from stockwatch.loader import load_batch
from stockwatch.producer import Publisher
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.warehouse import RAW_COLUMN_NAMES, connect

SESSION_OPEN = time(14, 30)  # UTC
SESSION_MINUTES = 390


def _row(e: MarketEvent, loaded_at: datetime, offset: int) -> dict[str, object]:
    return {
        "event_id": e.event_id,
        "schema_version": 1,
        "event_type": e.event_type,
        "symbol": e.symbol,
        "price": e.price,
        "change": e.change,
        "change_pct": e.change_pct,
        "day_open": e.day_open,
        "day_high": e.day_high,
        "day_low": e.day_low,
        "prev_close": e.prev_close,
        "volume": e.volume,
        "conditions": None,
        "event_time": e.event_time.replace(tzinfo=None),
        "ingest_time": e.ingest_time.replace(tzinfo=None),
        "source": e.source,
        "kafka_topic": "stock_prices",
        "kafka_partition": 0,
        "kafka_offset": offset,
        "loaded_at": loaded_at,
    }


def session_events(symbols: list[str], day: date, *, seed: int = 7, tick_seconds: int = 30) -> list[MarketEvent]:
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
    events: list[MarketEvent] = []
    for e in market.ticks():
        events.append(e)
        if e.event_time.second == 0:
            events.append(
                e.model_copy(update={"event_id": event_id("quote", e.event_id), "event_type": "quote", "volume": None})
            )
    return events


def rows(events: list[MarketEvent]) -> pd.DataFrame:
    """RAW rows for `events` as the loader would write them (loaded a minute after the last event)."""
    loaded_at = max(e.event_time for e in events).replace(tzinfo=None) + timedelta(minutes=1)
    frame = pd.DataFrame([_row(e, loaded_at, offset) for offset, e in enumerate(events)])
    return frame[[c.lower() for c in RAW_COLUMN_NAMES]]


def session_rows(symbols: list[str], day: date, *, seed: int = 7) -> pd.DataFrame:
    return rows(session_events(symbols, day, seed=seed))


def load_through_kafka(kafka: KafkaSettings, snowflake: SnowflakeSettings, events: list[MarketEvent]) -> int:
    """Publish `events` with the producer's Publisher and run the loader's `load_batch` until all are in RAW."""
    publisher = Publisher(kafka)
    try:
        refused = [e.event_id for e in events if not publisher.publish(e)]
        assert not refused, f"the producer refused {len(refused)} events"
        assert publisher.flush(60) == 0, "events still queued after 60 s"
    finally:
        publisher.close()
    loaded = 0
    deadline = monotonic() + 300
    while loaded < len(events):
        assert monotonic() < deadline, f"the loader loaded {loaded} of {len(events)} events in 300 s"
        result = load_batch(kafka, snowflake, max_records=50_000, max_seconds=30)
        assert result.dlq_count == 0
        loaded += result.rows_loaded
    return loaded


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
