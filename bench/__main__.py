"""`python -m bench [pipeline|operator|dbt|all] [args...]`: run the benchmarks (not part of the tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = ("pipeline", "operator", "dbt")

if __name__ == "__main__":
    which, *rest = sys.argv[1:] or ["all"]
    names = BENCHES if which == "all" else (which,)
    for name in names:
        if name not in BENCHES:
            sys.exit(f"unknown bench {name!r}; choose from {', '.join(BENCHES)} or all")
        subprocess.run([sys.executable, str(HERE / f"{name}_bench.py"), *rest], check=True)
