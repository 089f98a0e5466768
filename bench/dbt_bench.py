"""dbt bench: full refresh vs incremental run after one more trading day of one-minute bars.

For each history length in `--days` (a fresh fakesnow server each): fills RAW with that many trading
days x `--symbols` symbols x 390 one-minute trades (seeded GBM, bulk-inserted as Parquet: fakesnow is
DuckDB underneath), builds the models once, adds one more day, then times on the same data

  - `dbt run`                 the incremental run after one more day,
  - `dbt run` again           nothing new: the fixed cost of a run (dbt's per-model statements),
  - `dbt run --full-refresh`  everything rebuilt from RAW.

"models" is the time dbt reports for its nodes (the warehouse's work plus dbt's statements per model),
"wall" adds dbt's process start-up and parse. Prints tables and writes bench/results/dbt.json.

    .venv/bin/python bench/dbt_bench.py --symbols 100 --days 63,126,252
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


def minute_trades(symbols: int, day: date, day_number: int, seed: int) -> pd.DataFrame:
    """One trade per symbol and minute of the regular session: a GBM path per symbol, seeded by day."""
    rng = np.random.default_rng([seed, day_number])
    start = np.random.default_rng([seed]).uniform(20, 600, symbols)
    drift = 0.08 / (252 * MINUTES)
    vol = 0.35 / np.sqrt(252 * MINUTES)
    # Each day continues from a deterministic daily close so days can be generated independently.
    day_start = start * np.exp(np.random.default_rng([seed, 10**6 + day_number]).normal(0, 0.02, symbols))
    steps = rng.normal(drift, vol, (symbols, MINUTES))
    prices = np.round(day_start[:, None] * np.exp(np.cumsum(steps, axis=1)), 4).ravel()
    n = symbols * MINUTES
    symbol_names = np.repeat([f"S{i:03d}" for i in range(symbols)], MINUTES)
    minute = np.tile(np.arange(MINUTES), symbols)
    event_time = pd.Timestamp(day) + SESSION_OPEN + pd.to_timedelta(minute, unit="min")
    ids = pd.Series(np.arange(n) + day_number * n).map(lambda i: f"{seed:04x}{i:028x}")
    loaded = event_time + pd.Timedelta(seconds=2)
    return pd.DataFrame(
        {
            "event_id": ids,
            "schema_version": 1,
            "event_type": "trade",
            "symbol": symbol_names,
            "price": prices,
            "change": None,
            "change_pct": None,
            "day_open": None,
            "day_high": None,
            "day_low": None,
            "prev_close": None,
            "volume": rng.integers(100, 5000, n).astype(float),
            "conditions": None,
            "event_time": event_time,
            "ingest_time": event_time + pd.Timedelta(seconds=1),
            "source": "synthetic",
            "kafka_topic": "stock_prices",
            "kafka_partition": 0,
            "kafka_offset": np.arange(n),
            "loaded_at": loaded,
        }
    )[[c.lower() for c in RAW_COLUMN_NAMES]]


def load_days(settings: SnowflakeSettings, symbols: int, days: list[date], first_number: int, seed: int) -> int:
    rows = 0
    with connect(settings) as conn:
        cur = conn.cursor()
        for chunk in range(0, len(days), 10):
            frames = [
                minute_trades(symbols, d, first_number + chunk + i, seed)
                for i, d in enumerate(days[chunk : chunk + 10])
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


def measure(symbols: int, days: int, seed: int, console: Console) -> dict[str, Any]:
    """One history length on a fresh server: build, +1 day, then incremental, nothing-new and full runs."""
    with tempfile.TemporaryDirectory(prefix="stockwatch-dbt-bench-") as tmp:
        server = LocalFakesnow(Path(tmp) / "data")
        server.start()
        try:
            settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=server.port, database="STOCKS_FIN")
            init_warehouse(settings)
            all_days = trading_days(datetime.now(UTC).date() - timedelta(days=7), days + 1)
            history, extra = all_days[:-1], all_days[-1:]
            t0 = time.perf_counter()
            rows = load_days(settings, symbols, history, 0, seed)
            console.print(f"{days} days: {rows:,} one-minute trades loaded in {time.perf_counter() - t0:.0f}s")
            target = Path(tmp) / "target"
            timed(["run"], settings, target)
            extra_rows = load_days(settings, symbols, extra, len(history), seed)
            incremental = Run(*timed(["run"], settings, target))
            nothing_new = Run(*timed(["run"], settings, target))
            full = Run(*timed(["run", "--full-refresh"], settings, target))
        finally:
            server.stop()
    console.print(
        f"{days} days: full {full.models:.1f}s, incremental {incremental.models:.2f}s, "
        f"nothing new {nothing_new.models:.2f}s (models)"
    )
    return {
        "trading_days": days,
        "raw_rows_before": rows,
        "raw_rows_added": extra_rows,
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


def print_tables(result: dict[str, Any], console: Console) -> None:
    sizes = result["runs"]
    table = Table(
        title=f"dbt run, {result['symbols']} symbols x {MINUTES} one-minute bars per day: "
        "full refresh vs incremental after one more day"
    )
    for column in (
        "history",
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
    for r in sizes:
        table.add_row(
            f"{r['trading_days']} days",
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
    largest = sizes[-1]
    per_model = Table(title=f"per model, {largest['trading_days']} days of history (seconds)")
    for column in ("model", "full refresh", "incremental", "nothing new", "ratio"):
        per_model.add_column(column, justify="left" if column == "model" else "right")
    for name, t in largest["per_model_seconds"].items():
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
        help="comma-separated trading days of history before the extra day (the last one is the headline)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    opts = parser.parse_args()
    console = Console(width=150)
    sizes = sorted(int(d) for d in opts.days.split(","))
    runs = [measure(opts.symbols, days, opts.seed, console) for days in sizes]
    headline = runs[-1]
    result = {
        "symbols": opts.symbols,
        "minutes_per_day": MINUTES,
        "headline_trading_days": headline["trading_days"],
        "target_ratio": 0.1,
        "ratio_models": headline["ratio_models"],
        "ratio_wall": headline["ratio_wall"],
        "target_met_on_models": headline["ratio_models"] <= 0.1,
        "runs": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, fakesnow server",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print_tables(result, console)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {opts.output}")


if __name__ == "__main__":
    main()
