"""pytest fixtures of the dbt suite (defined in dbt_warehouse.py, a typed module)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dbt_warehouse import built_warehouse

__all__ = ["built_warehouse"]
