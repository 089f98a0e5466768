"""Warehouse model commands: backfill, dbt (pass-through), report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from stockwatch.cli.app import app
from stockwatch.config import SnowflakeSettings, SymbolSettings, parse_symbols

console = Console(stderr=True)

Symbols = Annotated[
    str | None, typer.Option("--symbols", envvar="STOCKS", help="Symbols, comma or blank separated [default: the ten]")
]


def _symbols(value: str | None) -> list[str]:
    return parse_symbols(value) if value else SymbolSettings().stocks


@app.command()
def backfill(
    symbols: Symbols = None,
    days: Annotated[int, typer.Option(min=1, help="Weekdays of synthetic history per symbol")] = 365,
    csv: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Load this CSV (symbol,date,open,high,low,close,volume)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Synthetic history: random seed")] = 42,
    end: Annotated[
        str | None, typer.Option(help="Last day of synthetic history, YYYY-MM-DD [default: yesterday]")
    ] = None,
) -> None:
    """Load daily history into RAW_STOCKS.DAILY_PRICES (from --csv, or seeded synthetic bars ending at live prices)."""
    from stockwatch.backfill import backfill as run_backfill

    result = run_backfill(
        SnowflakeSettings(),
        _symbols(symbols),
        days=days,
        csv_path=csv,
        seed=seed,
        end=date.fromisoformat(end) if end else None,
    )
    console.print(
        f"loaded {result.rows} daily bars for {len(result.symbols)} symbols"
        f" ({result.first_date} .. {result.last_date}); `stockwatch dbt build` brings them into the marts"
    )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def dbt(ctx: typer.Context) -> None:
    """Run dbt on the project with the SNOWFLAKE_* settings, e.g. `stockwatch dbt build --select marts`."""
    from stockwatch.models import run_dbt

    result = run_dbt(list(ctx.args) or ["--help"], SnowflakeSettings(), echo=True)
    raise typer.Exit(result.returncode)


@app.command()
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write")] = Path("stockwatch-report.html"),
    text: Annotated[bool, typer.Option("--text", help="Print the performance table instead of writing HTML")] = False,
    symbols: Annotated[
        str | None, typer.Option("--symbols", help="Only these symbols [default: all in the mart]")
    ] = None,
) -> None:
    """Write one self-contained HTML report from the marts (charts + performance table), or print the table."""
    from stockwatch.report import print_table, write_report

    settings = SnowflakeSettings()
    selected = parse_symbols(symbols) if symbols else None
    if text:
        print_table(settings, selected, Console())
        return
    path = write_report(settings, output, selected)
    console.print(f"report: {path.resolve()}")
