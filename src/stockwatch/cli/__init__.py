"""`stockwatch` command line: each module below adds its commands to the shared app."""

from __future__ import annotations

import importlib

from stockwatch.cli.app import app

# Command modules, in `--help` order. A module missing from an install is a bug: import errors surface.
for _module in ("pipeline", "models"):
    try:
        importlib.import_module(f"stockwatch.cli.{_module}")
    except ModuleNotFoundError as exc:  # pragma: no cover - only while an area is being built
        if exc.name != f"stockwatch.cli.{_module}":
            raise

__all__ = ["app"]
