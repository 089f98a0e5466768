"""Data path commands: produce, load, warehouse init, demo."""

from __future__ import annotations

import asyncio
import signal
import threading
from pathlib import Path
from typing import Annotated, NoReturn

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


def _fail(line: str) -> NoReturn:
    """End the command with one line on stderr (never wrapped) and exit status 1."""
    typer.echo(line, err=True)
    raise typer.Exit(1)


def _check(kafka: KafkaSettings | None = None, warehouse: SnowflakeSettings | None = None) -> None:
    """Start-up checks (`stockwatch.preflight`): the first part that does not answer ends the command."""
    from stockwatch import preflight

    try:
        if kafka is not None:
            preflight.check_kafka(kafka)
        if warehouse is not None:
            preflight.check_warehouse(warehouse)
    except preflight.UnreachableError as exc:
        _fail(str(exc))


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
    shutdown_timeout: Annotated[
        float,
        typer.Option(envvar="STOCKWATCH_SHUTDOWN_TIMEOUT_SECONDS", help="Seconds to flush at stop; then give up"),
    ] = 30.0,
    metrics_port: MetricsPort = 9100,
) -> None:
    """Publish quotes (Finnhub REST or websocket, or the synthetic market) to Kafka until stopped (SIGTERM flushes).

    Exits 1 with one line when Kafka does not answer at start (KAFKA_STARTUP_TIMEOUT_SECONDS), when messages are
    left undelivered, or when Finnhub rejects FINNHUB_API_KEY.
    """
    from stockwatch import producer
    from stockwatch.sources import FinnhubKeyRejectedError, make_source

    configure()
    if source not in ("auto", "synthetic", "finnhub-rest", "finnhub-ws"):
        raise typer.BadParameter(f"unknown source {source!r}", param_hint="--source")
    kafka = KafkaSettings()
    _check(kafka)
    metrics.serve(metrics_port, metrics.PRODUCER)
    src = make_source(
        source,  # type: ignore[arg-type]
        _symbols(symbols),
        FinnhubSettings(),
        poll_interval=poll_interval,
        tick_seconds=tick_seconds,
        seed=seed,
    )
    publisher = producer.Publisher(kafka)

    async def main() -> producer.PublishStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        return await producer.run(src.events(), publisher, stop, flush_timeout=shutdown_timeout)

    try:
        stats = asyncio.run(main())
    except FinnhubKeyRejectedError as exc:
        _fail(str(exc))  # what was published before is flushed (producer.run)
    console.print(f"published {stats.published}, failed {stats.failed}, invalid {stats.invalid}")
    if stats.failed:
        _fail(
            f"KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap_servers}: {stats.failed} messages not delivered"
            f" ({stats.undelivered} still queued at shutdown, after {shutdown_timeout:g} s)"
        )


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
    """Load Kafka -> RAW (MERGE on event id; offsets committed after the warehouse commit).

    Exits 1 with one line when Kafka or the warehouse does not answer at start (KAFKA_STARTUP_TIMEOUT_SECONDS,
    SNOWFLAKE_STARTUP_TIMEOUT_SECONDS).
    """
    from stockwatch.loader import load_batch, run_forever

    configure()
    kafka, snowflake = KafkaSettings(), SnowflakeSettings()
    _check(kafka, snowflake)
    metrics.serve(metrics_port, metrics.LOADER)
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
    _check(warehouse=settings)
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
