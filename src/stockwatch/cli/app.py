"""The `stockwatch` typer app; command modules register themselves on it (see `stockwatch.cli`)."""

from __future__ import annotations

import warnings

import typer

# The Snowflake connector's vendored `requests` warns at import that our urllib3/chardet are newer than it knows:
# two lines of noise before every warehouse command's output (an error line included), nothing to act on.
warnings.filterwarnings("ignore", message=r"urllib3 \(.*\) or chardet .* doesn't match a supported version")

app = typer.Typer(
    name="stockwatch",
    help="Real-time market data pipeline: quotes -> Kafka -> Snowflake -> dbt marts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
