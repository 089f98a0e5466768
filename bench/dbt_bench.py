"""dbt bench: full refresh vs incremental run after one more trading day of one-minute bars.

Starts its own fakesnow server, fills RAW with `--days` trading days x `--symbols` symbols x 390
one-minute trades (seeded GBM, bulk-inserted as Parquet: fakesnow is DuckDB underneath), builds the
models once, adds one more day, then times `dbt run` (incremental) and `dbt run --full-refresh` on
the same data. Prints a table and writes bench/results/dbt.json.

    .venv/bin/python bench/dbt_bench.py --symbols 100 --days 252
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from stockwatch.backfill import business_days, insert_frame
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


def models_seconds(result: DbtResult) -> float:
    """Time the warehouse spent building models (sum over nodes), without dbt's start-up and parse."""
    return sum(n.execution_time for n in result.nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--days", type=int, default=252, help="trading days of history before the extra day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    opts = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="stockwatch-dbt-bench-") as tmp:
        server = LocalFakesnow(Path(tmp) / "data")
        server.start()
        try:
            settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=server.port, database="STOCKS_FIN")
            init_warehouse(settings)
            all_days = business_days(datetime.now(UTC).date() - timedelta(days=7), opts.days + 1)
            history, extra = all_days[:-1], all_days[-1:]
            t0 = time.perf_counter()
            rows = load_days(settings, opts.symbols, history, 0, opts.seed)
            console.print(f"RAW: {rows:,} one-minute trades loaded in {time.perf_counter() - t0:.0f}s")
            target = Path(tmp) / "target"
            build_s, _ = timed(["run"], settings, target)
            console.print(f"initial full build: {build_s:.1f}s")
            extra_rows = load_days(settings, opts.symbols, extra, len(history), opts.seed)
            inc_s, inc = timed(["run"], settings, target)
            full_s, full = timed(["run", "--full-refresh"], settings, target)
        finally:
            server.stop()
    result = {
        "symbols": opts.symbols,
        "trading_days": opts.days,
        "minutes_per_day": MINUTES,
        "raw_rows_before": rows,
        "raw_rows_added": extra_rows,
        "full_refresh_wall_seconds": round(full_s, 2),
        "incremental_wall_seconds": round(inc_s, 2),
        "full_refresh_model_seconds": round(models_seconds(full), 2),
        "incremental_model_seconds": round(models_seconds(inc), 2),
        "ratio_models": round(models_seconds(inc) / models_seconds(full), 3),
        "ratio_wall": round(inc_s / full_s, 3),
        "per_model_seconds": {
            n.unique_id.split(".")[-1]: {
                "full": round(n.execution_time, 2),
                "incremental": round(next(i.execution_time for i in inc.nodes if i.unique_id == n.unique_id), 2),
            }
            for n in full.nodes
        },
        "target_ratio": 0.1,
        "machine": f"{platform.machine()}, {platform.python_version()}, fakesnow (DuckDB) server",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    table = Table(title=f"dbt run: {opts.symbols} symbols x {opts.days} days x {MINUTES} one-minute bars, +1 day")
    for column in ("model", "full refresh s", "incremental s", "ratio"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, t in result["per_model_seconds"].items():
        ratio = t["incremental"] / t["full"] if t["full"] else 0.0
        table.add_row(name, f"{t['full']:.2f}", f"{t['incremental']:.2f}", f"{ratio:.2f}")
    table.add_row(
        "[bold]all models[/]",
        f"{result['full_refresh_model_seconds']:.1f}",
        f"{result['incremental_model_seconds']:.1f}",
        f"[bold]{result['ratio_models']:.3f}[/]",
    )
    table.add_row(
        "wall (incl. dbt start-up)",
        f"{result['full_refresh_wall_seconds']:.1f}",
        f"{result['incremental_wall_seconds']:.1f}",
        f"{result['ratio_wall']:.3f}",
    )
    console.print(table)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(result, indent=2) + "\n")
    console.print(f"wrote {opts.output}")


if __name__ == "__main__":
    main()
