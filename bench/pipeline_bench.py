"""Data path benchmarks, each against a baseline measured in the same run on the same machine.

1. Producer: `stockwatch.producer.Publisher` (JSON encoding + schema validation + idempotent produce) vs
   Kafka's own `org.apache.kafka.tools.ProducerPerformance` on the same broker, sending the very same
   payloads (`--payload-file`) with the same producer settings. Target: >= 0.5x.
2. Loader: `load_batch` (Kafka -> validate -> PUT + COPY -> MERGE -> commit) vs the seed's row-by-row
   INSERT loader and vs a bare PUT + COPY of the same rows from a file, on the fakesnow server.
   Target: >= 50x row-by-row.
3. Streaming freshness: synthetic market in real time -> producer -> `run_forever` loader; per event,
   the time it became visible in RAW minus its event time; p50 / p95. Target: p95 <= 5 s.

Prints a table, saves bench/results/pipeline.json.  Run: `make bench ARGS=pipeline` (or python bench/pipeline_bench.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from stockwatch import producer
from stockwatch.config import KafkaSettings, SnowflakeSettings
from stockwatch.loader import load_batch, run_forever
from stockwatch.loader.validate import split
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.local.kafka import LocalKafka
from stockwatch.sources.synthetic import SyntheticMarket
from stockwatch.topics import fresh_topics
from stockwatch.warehouse import RAW_COLUMN_NAMES, connect, init_warehouse

RESULTS = Path(__file__).parent / "results" / "pipeline.json"
SYMBOLS = ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA", "NVDA", "META", "NFLX", "UBER", "COIN"]
START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


@dataclass
class Row:
    bench: str
    subject: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    target: str


def events(n: int, seed: int = 1) -> list[Any]:
    ticks = n // len(SYMBOLS)
    return list(SyntheticMarket(SYMBOLS, seed=seed, start=START, realtime=False, max_ticks=ticks).ticks())


def kafka_for(broker: LocalKafka) -> KafkaSettings:
    return fresh_topics(broker.bootstrap_servers, "bench")


def bench_producer(broker: LocalKafka, n: int, workdir: Path) -> Row:
    batch = events(n)
    payloads = [e.to_json() for e in batch]
    size = round(statistics.mean(len(p) for p in payloads))
    # ours: encode + validate + produce + delivery callbacks, until every event is acknowledged
    kafka = kafka_for(broker)
    publisher = producer.Publisher(kafka)
    started = time.perf_counter()
    for event in batch:
        publisher.publish(event)
    assert publisher.flush(120) == 0
    ours = len(batch) / (time.perf_counter() - started)
    assert publisher.stats.published == len(batch)
    # Kafka's own perf tool, same broker, same payload bytes, same producer settings
    payload_file = workdir / "payloads.txt"
    payload_file.write_bytes(b"\n".join(payloads))
    kafka2 = kafka_for(broker)
    props = {k: v for k, v in producer.PRODUCER_DEFAULTS.items() if "." in k and k != "queue.buffering.max.messages"}
    java_props = {
        "bootstrap.servers": broker.bootstrap_servers,
        "acks": "all",
        "enable.idempotence": "true",
        "compression.type": str(props["compression.type"]),
        "linger.ms": str(props["linger.ms"]),
    }
    out = subprocess.run(
        ["java", "-Xmx1g", "-cp", f"{broker.libs}/*", "org.apache.kafka.tools.ProducerPerformance",
         "--topic", kafka2.topic, "--num-records", str(len(payloads)), "--throughput", "-1",
         "--payload-file", str(payload_file), "--producer-props", *(f"{k}={v}" for k, v in java_props.items())],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.findall(r"(\d+) records sent, ([\d.]+) records/sec", out.stdout)
    baseline = float(match[-1][1])
    return Row(
        "producer", f"Publisher ({size} B JSON records)", ours, "msg/s",
        "Kafka ProducerPerformance", baseline, ours / baseline, ">= 0.5x",
    )  # fmt: skip


def bench_loader(
    broker: LocalKafka, snowflake: SnowflakeSettings, n: int, row_by_row_n: int, workdir: Path
) -> list[Row]:
    batch = events(n, seed=2)
    kafka = kafka_for(broker)
    publisher = producer.Publisher(kafka)
    for event in batch:
        publisher.publish(event)
    assert publisher.flush(120) == 0
    started = time.perf_counter()
    loaded = 0
    while (result := load_batch(kafka, snowflake, max_records=n, max_seconds=60)).messages:
        loaded += result.rows_loaded
    ours = loaded / (time.perf_counter() - started)
    assert loaded == len(batch), (loaded, len(batch))

    # the same rows, as RAW tuples
    class Msg:
        def __init__(self, value: bytes, offset: int) -> None:
            self._v, self._o = value, offset

        def value(self) -> bytes:
            return self._v

        def topic(self) -> str:
            return "bench"

        def partition(self) -> int:
            return 0

        def offset(self) -> int:
            return self._o

    rows, _ = split([Msg(e.to_json(), i) for i, e in enumerate(batch)])  # type: ignore[misc]
    columns = ", ".join(RAW_COLUMN_NAMES)
    placeholders = ", ".join(["%s"] * len(RAW_COLUMN_NAMES))
    with connect(snowflake) as conn:
        cur = conn.cursor()
        cur.execute(
            f"CREATE OR REPLACE TABLE {snowflake.database}.RAW_STOCKS.BENCH_ROW_BY_ROW LIKE {snowflake.raw_table}"
        )
        cur.execute(f"CREATE OR REPLACE TABLE {snowflake.database}.RAW_STOCKS.BENCH_COPY LIKE {snowflake.raw_table}")
        conn.commit()
        # the seed's way: one INSERT per row, committed as it goes (a subset: it is slow)
        started = time.perf_counter()
        for row in rows[:row_by_row_n]:
            cur.execute(
                f"INSERT INTO {snowflake.database}.RAW_STOCKS.BENCH_ROW_BY_ROW ({columns}) VALUES ({placeholders})", row
            )
            conn.commit()
        row_by_row = row_by_row_n / (time.perf_counter() - started)
        # the ceiling: PUT + COPY of the same rows from a file, no Kafka, no merge
        import csv

        path = workdir / "rows.csv"
        with path.open("w", newline="") as fh:
            csv.writer(fh).writerows(rows)
        started = time.perf_counter()
        cur.execute(f"USE SCHEMA {snowflake.database}.RAW_STOCKS")
        cur.execute(f"PUT 'file://{path}' @%BENCH_COPY OVERWRITE = TRUE")
        cur.execute(
            "COPY INTO BENCH_COPY FROM @%BENCH_COPY FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
            "NULL_IF = ('')) PURGE = TRUE"
        )
        conn.commit()
        bulk = len(rows) / (time.perf_counter() - started)
    return [
        Row("loader", f"load_batch, {len(batch)} events", ours, "rows/s",
            f"row-by-row INSERT ({row_by_row_n} rows)", row_by_row, ours / row_by_row, ">= 50x"),
        Row("loader", f"load_batch, {len(batch)} events", ours, "rows/s",
            "bare PUT + COPY of the same rows", bulk, ours / bulk, "(ceiling)"),
    ]  # fmt: skip


def bench_freshness(broker: LocalKafka, snowflake: SnowflakeSettings, seconds: float) -> list[Row]:
    kafka = kafka_for(broker)
    publisher = producer.Publisher(kafka)
    stop_loader = threading.Event()
    loader = threading.Thread(target=run_forever, args=(kafka, snowflake, stop_loader), kwargs={"flush_seconds": 1.0})
    loader.start()
    visible: dict[str, float] = {}
    event_times: dict[str, float] = {}
    done = threading.Event()

    def watch() -> None:  # when does each row become visible in RAW?
        watermark = "1970-01-01 00:00:00"
        with connect(snowflake) as conn:
            cur = conn.cursor()
            while not done.is_set():
                # one loader commits batches in order, so LOADED_AT is a watermark of what is visible
                cur.execute(
                    f"SELECT EVENT_ID, LOADED_AT FROM {snowflake.raw_table} WHERE KAFKA_TOPIC = %s AND LOADED_AT > %s",
                    (kafka.topic, watermark),
                )
                now = time.time()
                for event_id, loaded_at in cur.fetchall():
                    visible.setdefault(event_id, now)
                    watermark = max(watermark, loaded_at.isoformat(sep=" "))
                conn.commit()
                time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()

    async def produce() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        market = SyntheticMarket(SYMBOLS, seed=3, tick_seconds=0.2)

        async def stamped() -> Any:
            async for event in market.events():
                event_times[event.event_id] = event.event_time.timestamp()
                yield event

        await producer.run(stamped(), publisher, stop)

    asyncio.run(produce())
    deadline = time.time() + 60
    while len(visible) < publisher.stats.published and time.time() < deadline:
        time.sleep(0.2)
    done.set()
    watcher.join()
    stop_loader.set()
    loader.join()
    lags = sorted(visible[i] - t for i, t in event_times.items() if i in visible)
    assert len(lags) == publisher.stats.published, (len(lags), publisher.stats.published)
    p50, p95 = statistics.median(lags), lags[int(0.95 * (len(lags) - 1))]
    return [
        Row("freshness", f"event time -> visible in RAW, {len(lags)} events", p50, "s (p50)", "-", 0, 0, ""),
        Row("freshness", f"event time -> visible in RAW, {len(lags)} events", p95, "s (p95)", "target", 5.0,
            p95 / 5.0, "<= 5 s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--producer-events", type=int, default=200_000)
    parser.add_argument("--loader-events", type=int, default=50_000)
    parser.add_argument("--row-by-row-events", type=int, default=500)
    parser.add_argument("--freshness-seconds", type=float, default=30.0)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="stockwatch-bench-") as tmp:
        workdir = Path(tmp)
        broker, warehouse = LocalKafka(workdir / "kafka", heap="1g"), LocalFakesnow(workdir / "fakesnow" / "data")
        broker.start()
        warehouse.start()
        os.environ.update(warehouse.env())
        snowflake = SnowflakeSettings()
        init_warehouse(snowflake)
        try:
            rows = [bench_producer(broker, args.producer_events, workdir)]
            rows += bench_loader(broker, snowflake, args.loader_events, args.row_by_row_events, workdir)
            rows += bench_freshness(broker, snowflake, args.freshness_seconds)
        finally:
            warehouse.stop()
            broker.stop()
    table = Table(title=f"stockwatch data path bench ({platform.machine()}, {os.cpu_count()} cores)")
    for column in ("bench", "subject", "value", "baseline", "baseline value", "ratio", "target"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.bench, r.subject, f"{r.value:,.2f} {r.unit}", r.baseline, f"{r.baseline_value:,.2f}",
                      f"{r.ratio:.2f}x" if r.ratio else "", r.target)  # fmt: skip
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"run_at": datetime.now(UTC).isoformat(), "machine": {"arch": platform.machine(), "cores": os.cpu_count()},
             "args": vars(args), "results": [asdict(r) for r in rows]},
            indent=2,
        )
    )  # fmt: skip
    console.print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
