"""Data path commands: produce, load, warehouse init, demo."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stockwatch import metrics
from stockwatch.cli.app import app
from stockwatch.config import FinnhubSettings, KafkaSettings, SnowflakeSettings, SymbolSettings, parse_symbols
from stockwatch.logs import configure

console = Console(stderr=True)
warehouse_app = typer.Typer(help="Warehouse set-up.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")

Symbols = Annotated[
    str | None, typer.Option("--symbols", envvar="STOCKS", help="Symbols, comma or blank separated [default: the ten]")
]
MetricsPort = Annotated[int, typer.Option(envvar="STOCKWATCH_METRICS_PORT", help="Port for /metrics (0: off)")]


def _symbols(value: str | None) -> list[str]:
    return parse_symbols(value) if value else SymbolSettings().stocks


def _stop_event_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command()
def produce(
    symbols: Symbols = None,
    source: Annotated[
        str, typer.Option(envvar="STOCKWATCH_SOURCE", help="auto | synthetic | finnhub-rest | finnhub-ws")
    ] = "auto",
    poll_interval: Annotated[float, typer.Option(envvar="STOCKWATCH_POLL_INTERVAL_SECONDS")] = 15.0,
    tick_seconds: Annotated[float, typer.Option(help="Synthetic market: seconds between ticks")] = 1.0,
    seed: Annotated[int, typer.Option(help="Synthetic market: random seed")] = 42,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds")] = None,
    metrics_port: MetricsPort = 9100,
) -> None:
    """Publish quotes (Finnhub REST or websocket, or the synthetic market) to Kafka until stopped (SIGTERM flushes)."""
    from stockwatch import producer
    from stockwatch.sources import make_source

    configure()
    if source not in ("auto", "synthetic", "finnhub-rest", "finnhub-ws"):
        raise typer.BadParameter(f"unknown source {source!r}", param_hint="--source")
    metrics.serve(metrics_port, metrics.PRODUCER)
    src = make_source(
        source,  # type: ignore[arg-type]
        _symbols(symbols),
        FinnhubSettings(),
        poll_interval=poll_interval,
        tick_seconds=tick_seconds,
        seed=seed,
    )
    publisher = producer.Publisher(KafkaSettings())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        stats = await producer.run(src.events(), publisher, stop)
        console.print(f"published {stats.published}, failed {stats.failed}, invalid {stats.invalid}")

    asyncio.run(main())


@app.command()
def load(
    follow: Annotated[
        bool, typer.Option("--follow/--once", help="Run continuously, or load one batch and exit")
    ] = False,
    max_records: Annotated[int, typer.Option(help="Records per batch at most")] = 50_000,
    max_seconds: Annotated[float, typer.Option(help="--once: seconds to collect a batch at most")] = 30.0,
    flush_seconds: Annotated[float, typer.Option(help="--follow: seconds between warehouse commits at most")] = 2.0,
    metrics_port: MetricsPort = 9101,
) -> None:
    """Load Kafka -> RAW (MERGE on event id; offsets committed after the warehouse commit)."""
    from stockwatch.loader import load_batch, run_forever

    configure()
    metrics.serve(metrics_port, metrics.LOADER)
    kafka, snowflake = KafkaSettings(), SnowflakeSettings()
    if follow:
        run_forever(kafka, snowflake, _stop_event_on_signals(), flush_seconds=flush_seconds, max_records=max_records)
        return
    result = load_batch(kafka, snowflake, max_records=max_records, max_seconds=max_seconds)
    console.print(
        f"loaded {result.rows_loaded} new rows from {result.messages} messages; "
        f"dead letters {result.dlq_count}; consumer lag {result.consumer_lag}"
    )


@warehouse_app.command("init")
def warehouse_init() -> None:
    """Create database STOCKS_FIN, its four schemas and RAW_STOCKS.STOCK_PRICES if missing (idempotent)."""
    from stockwatch.warehouse import init_warehouse

    settings = SnowflakeSettings()
    for statement in init_warehouse(settings):
        console.print(statement.splitlines()[0])


@warehouse_app.command("local")
def warehouse_local(
    port: Annotated[int, typer.Option(help="Port to serve the Snowflake wire protocol on")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind (0.0.0.0 in a pod)")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option(help="Where the warehouse keeps its files")] = Path(".scratch/warehouse"),
) -> None:
    """Serve a Snowflake-compatible warehouse (fakesnow) with the database initialised, until stopped.

    For laptops and kind clusters without a Snowflake account (the chart's `localWarehouse`); clients connect
    with SNOWFLAKE_ACCOUNT=fakesnow, SNOWFLAKE_HOST, SNOWFLAKE_PORT and SNOWFLAKE_PROTOCOL=http. Never production.
    """
    from stockwatch.local.fakesnow import serve

    configure()
    serve(data_dir.resolve(), host, port, SnowflakeSettings().database, _stop_event_on_signals())


@app.command()
def demo(
    duration: Annotated[float | None, typer.Option(help="Stop by itself after this many seconds")] = None,
    symbols: Symbols = None,
    workdir: Annotated[Path, typer.Option(help="Where Kafka and the warehouse keep their data")] = Path(
        ".scratch/demo"
    ),
    tick_seconds: Annotated[float, typer.Option(help="Synthetic market: seconds between ticks")] = 0.5,
    history_days: Annotated[int, typer.Option(help="Days of daily history to backfill (0: none)")] = 400,
    metrics_port: MetricsPort = 9100,
) -> None:
    """Run the whole data path on this machine: Kafka, warehouse, producer, loader, dbt, report."""
    from stockwatch.demo import Demo

    configure(json=False)
    Demo(
        symbols=_symbols(symbols),
        workdir=workdir.resolve(),
        tick_seconds=tick_seconds,
        history_days=history_days,
        metrics_port=metrics_port,
        console=console,
    ).run(duration)
