"""`python -m stockwatch` is the `stockwatch` command."""

from stockwatch.cli import app

app()
