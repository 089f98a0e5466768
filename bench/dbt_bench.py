"""dbt bench: full refresh vs incremental run after one more trading day of one-minute bars.

For each density in `--events-per-bar` and history length in `--days` (a fresh fakesnow server each):
fills RAW with that many trading days x `--symbols` symbols x 390 minutes x N quotes a minute (seeded
GBM, bulk-inserted as Parquet: fakesnow is DuckDB underneath), builds the models once, then `--repeats`
times adds one more day and times

  - `dbt run`                 the incremental run after one more day,
  - `dbt run` again           nothing new: the fixed cost of a run (dbt's statements per model, and the
                              last `late_arrival_minutes` of loads, which every run rebuilds),
  - `dbt run --full-refresh`  everything rebuilt from RAW (`--repeats` times, on the same data, at the end).

Each figure is the median of its runs; every run's time is in the JSON.

Densities: 4 is one quote every 15 s, the REST source's default poll (the synthetic market ticks every
second, the websocket streams every trade); 1 a minute is the floor, every bar from a single event (and
about what Finnhub's free plan, 60 calls a minute, allows 100 symbols). The headline is the largest
history at the largest density. "models" is the time dbt reports for its nodes (the warehouse's work
plus dbt's statements per model), "wall" adds dbt's process start-up and parse. Prints tables, writes
bench/results/dbt.json.

    .venv/bin/python bench/dbt_bench.py --symbols 100 --days 63,126,252 --events-per-bar 1,4
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from stockwatch.backfill import insert_frame, trading_days
from stockwatch.config import SnowflakeSettings
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.models import DbtResult, run_dbt
from stockwatch.warehouse import RAW_COLUMN_NAMES, connect, init_warehouse

MINUTES = 390
SESSION_OPEN = timedelta(hours=14, minutes=30)
RESULTS = Path(__file__).resolve().parent / "results" / "dbt.json"


def session_quotes(symbols: int, day: date, day_number: int, seed: int, per_bar: int) -> pd.DataFrame:
    """`per_bar` quotes per symbol and minute of the regular session, evenly spaced (4: one every 15 s,
    the REST source's default poll): a GBM path per symbol, seeded by day, with the quote's day
    open/high/low, previous close and change as Finnhub's /quote gives them (no volume)."""
    rng = np.random.default_rng([seed, day_number])
    start = np.random.default_rng([seed]).uniform(20, 600, symbols)
    steps_per_day = MINUTES * per_bar
    drift = 0.08 / (252 * steps_per_day)
    vol = 0.35 / np.sqrt(252 * steps_per_day)
    # Each day starts from a deterministic previous close so days can be generated independently.
    prev_close = start * np.exp(np.random.default_rng([seed, 10**6 + day_number]).normal(0, 0.02, symbols))
    paths = prev_close[:, None] * np.exp(np.cumsum(rng.normal(drift, vol, (symbols, steps_per_day)), axis=1))
    prices = np.round(paths, 4)
    n = symbols * steps_per_day
    step = np.tile(np.arange(steps_per_day), symbols)
    event_time = pd.Timestamp(day) + SESSION_OPEN + pd.to_timedelta(step * (60 / per_bar), unit="s")
    ids = pd.Series(np.arange(n) + day_number * n).map(lambda i: f"{seed:04x}{i:028x}")
    previous = np.repeat(np.round(prev_close, 4), steps_per_day)
    change = prices.ravel() - previous
    return pd.DataFrame(
        {
            "event_id": ids,
            "schema_version": 1,
            "event_type": "quote",
            "symbol": np.repeat([f"S{i:03d}" for i in range(symbols)], steps_per_day),
            "price": prices.ravel(),
            "change": np.round(change, 4),
            "change_pct": np.round(100 * change / previous, 4),
            "day_open": np.repeat(prices[:, 0], steps_per_day),
            "day_high": np.maximum.accumulate(prices, axis=1).ravel(),
            "day_low": np.minimum.accumulate(prices, axis=1).ravel(),
            "prev_close": previous,
            "volume": None,
            "conditions": None,
            "event_time": event_time,
            "ingest_time": event_time + pd.Timedelta(seconds=1),
            "source": "synthetic",
            "kafka_topic": "stock_prices",
            "kafka_partition": 0,
            "kafka_offset": np.arange(n),
            "loaded_at": event_time + pd.Timedelta(seconds=2),
        }
    )[[c.lower() for c in RAW_COLUMN_NAMES]]


def load_days(
    settings: SnowflakeSettings, symbols: int, days: list[date], first_number: int, seed: int, per_bar: int
) -> int:
    rows = 0
    chunk_days = max(1, 10 // per_bar)
    with connect(settings) as conn:
        cur = conn.cursor()
        for chunk in range(0, len(days), chunk_days):
            frames = [
                session_quotes(symbols, d, first_number + chunk + i, seed, per_bar)
                for i, d in enumerate(days[chunk : chunk + chunk_days])
            ]
            frame = pd.concat(frames, ignore_index=True)
            insert_frame(cur, settings.raw_table, frame)
            rows += len(frame)
        conn.commit()
    return rows


def timed(args: list[str], settings: SnowflakeSettings, target: Path) -> tuple[float, DbtResult]:
    t0 = time.perf_counter()
    result = run_dbt(args, settings, target_path=target).check()
    return time.perf_counter() - t0, result


@dataclass
class Run:
    wall: float
    result: DbtResult

    @property
    def models(self) -> float:
        """Time dbt spent on its nodes (sum over nodes), without dbt's process start-up and parse."""
        return sum(n.execution_time for n in self.result.nodes)

    def node(self, unique_id: str) -> float:
        return next(n.execution_time for n in self.result.nodes if n.unique_id == unique_id)


def median_run(runs: list[Run]) -> Run:
    """The run with the median model time (per-model times then come from one real run)."""
    return sorted(runs, key=lambda r: r.models)[len(runs) // 2]


def measure(symbols: int, days: int, per_bar: int, repeats: int, seed: int, console: Console) -> dict[str, Any]:
    """One history length and density on a fresh server: build, then `repeats` times (+1 day, incremental,
    nothing new), then `repeats` full refreshes; medians."""
    with tempfile.TemporaryDirectory(prefix="stockwatch-dbt-bench-") as tmp:
        server = LocalFakesnow(Path(tmp) / "data")
        server.start()
        try:
            settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=server.port, database="STOCKS_FIN")
            init_warehouse(settings)
            all_days = trading_days(datetime.now(UTC).date() - timedelta(days=7), days + repeats)
            history = all_days[:days]
            t0 = time.perf_counter()
            rows = load_days(settings, symbols, history, 0, seed, per_bar)
            console.print(f"{days} days x {per_bar}/bar: {rows:,} quotes loaded in {time.perf_counter() - t0:.0f}s")
            target = Path(tmp) / "target"
            timed(["run"], settings, target)
            incrementals: list[Run] = []
            nothing_news: list[Run] = []
            for number in range(days, days + repeats):
                extra_rows = load_days(settings, symbols, all_days[number : number + 1], number, seed, per_bar)
                incrementals.append(Run(*timed(["run"], settings, target)))
                nothing_news.append(Run(*timed(["run"], settings, target)))
            fulls = [Run(*timed(["run", "--full-refresh"], settings, target)) for _ in range(repeats)]
        finally:
            server.stop()
    incremental, nothing_new, full = median_run(incrementals), median_run(nothing_news), median_run(fulls)
    console.print(
        f"{days} days x {per_bar}/bar: full {full.models:.1f}s, incremental {incremental.models:.2f}s, "
        f"nothing new {nothing_new.models:.2f}s (models, median of {repeats})"
    )
    return {
        "trading_days": days,
        "events_per_bar": per_bar,
        "raw_rows_before": rows,
        "raw_rows_added": extra_rows,
        "repeats": repeats,
        "model_seconds_each": {
            "full_refresh": [round(r.models, 2) for r in fulls],
            "incremental": [round(r.models, 2) for r in incrementals],
            "nothing_new": [round(r.models, 2) for r in nothing_news],
        },
        "full_refresh": {"wall_seconds": round(full.wall, 2), "model_seconds": round(full.models, 2)},
        "incremental": {"wall_seconds": round(incremental.wall, 2), "model_seconds": round(incremental.models, 2)},
        "nothing_new": {"wall_seconds": round(nothing_new.wall, 2), "model_seconds": round(nothing_new.models, 2)},
        "ratio_models": round(incremental.models / full.models, 3),
        "ratio_wall": round(incremental.wall / full.wall, 3),
        "ratio_models_above_fixed_cost": round(
            (incremental.models - nothing_new.models) / (full.models - nothing_new.models), 4
        ),
        "per_model_seconds": {
            n.unique_id.split(".")[-1]: {
                "full": round(n.execution_time, 2),
                "incremental": round(incremental.node(n.unique_id), 2),
                "nothing_new": round(nothing_new.node(n.unique_id), 2),
            }
            for n in full.result.nodes
        },
    }


def print_tables(result: dict[str, Any], headline: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"dbt run, {result['symbols']} symbols x {MINUTES} one-minute bars per day: "
        "full refresh vs incremental after one more day"
    )
    for column in (
        "history",
        "quotes/bar",
        "RAW events",
        "full refresh s",
        "incremental s",
        "nothing new s",
        "ratio",
        "ratio above fixed",
        "wall full s",
        "wall incr s",
        "ratio wall",
    ):
        table.add_column(column, justify="right")
    for r in result["runs"]:
        table.add_row(
            f"{r['trading_days']} days",
            f"{r['events_per_bar']}",
            f"{r['raw_rows_before']:,}",
            f"{r['full_refresh']['model_seconds']:.1f}",
            f"{r['incremental']['model_seconds']:.2f}",
            f"{r['nothing_new']['model_seconds']:.2f}",
            f"[bold]{r['ratio_models']:.3f}[/]",
            f"{r['ratio_models_above_fixed_cost']:.4f}",
            f"{r['full_refresh']['wall_seconds']:.1f}",
            f"{r['incremental']['wall_seconds']:.1f}",
            f"{r['ratio_wall']:.3f}",
        )
    console.print(table)
    per_model = Table(
        title=f"per model, {headline['trading_days']} days x {headline['events_per_bar']} quotes per bar (seconds)"
    )
    for column in ("model", "full refresh", "incremental", "nothing new", "ratio"):
        per_model.add_column(column, justify="left" if column == "model" else "right")
    for name, t in headline["per_model_seconds"].items():
        ratio = t["incremental"] / t["full"] if t["full"] else 0.0
        per_model.add_row(
            name, f"{t['full']:.2f}", f"{t['incremental']:.2f}", f"{t['nothing_new']:.2f}", f"{ratio:.2f}"
        )
    console.print(per_model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument(
        "--days",
        default="63,126,252",
        help="comma-separated trading days of history before the extra day (the largest is the headline)",
    )
    parser.add_argument(
        "--events-per-bar",
        default="1,4",
        help="comma-separated RAW quotes per symbol and minute (the largest is the headline; 4 = the REST "
        "source's default 15 s poll)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each kind per size (one more day before each incremental)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    opts = parser.parse_args()
    console = Console(width=150)
    sizes = sorted(int(d) for d in opts.days.split(","))
    densities = sorted(int(d) for d in opts.events_per_bar.split(","))
    runs = [
        measure(opts.symbols, days, per_bar, opts.repeats, opts.seed, console)
        for per_bar in densities
        for days in sizes
    ]
    headline = runs[-1]
    result = {
        "symbols": opts.symbols,
        "minutes_per_day": MINUTES,
        "headline_trading_days": headline["trading_days"],
        "headline_events_per_bar": headline["events_per_bar"],
        "target_ratio": 0.1,
        "ratio_models": headline["ratio_models"],
        "ratio_wall": headline["ratio_wall"],
        "target_met_on_models": headline["ratio_models"] <= 0.1,
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, fakesnow server",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print_tables(result, headline, console)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {opts.output}")


if __name__ == "__main__":
    main()
