"""The `stockwatch` typer app; command modules register themselves on it (see `stockwatch.cli`)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="stockwatch",
    help="Real-time market data pipeline: quotes -> Kafka -> Snowflake -> dbt marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
