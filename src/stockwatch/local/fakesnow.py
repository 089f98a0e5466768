"""The embedded Snowflake-compatible warehouse: a `fakesnow -s` server over DuckDB files in a data dir.

snowflake-connector-python and dbt-snowflake reach it by host/port (see `SnowflakeSettings`), so the
pipeline's code path is the one that serves real Snowflake.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from stockwatch.local.process import ManagedProcess, free_port, port_open


class LocalFakesnow:
    def __init__(self, data_dir: Path, port: int | None = None):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("fakesnow", path=str(Path(sys.executable).parent)) or "fakesnow"
        argv = [exe, "-s", "--host", "127.0.0.1", "-p", str(self.port), "-d", str(self.data_dir)]
        self.process = ManagedProcess("fakesnow", argv, self.data_dir.parent / "fakesnow.log")
        self.process.start()
        self.process.wait_ready(lambda: port_open(self.port), timeout)

    def env(self) -> dict[str, str]:
        """Environment variables that point `SnowflakeSettings` (and the dbt `local` profile) here."""
        return {
            "SNOWFLAKE_ACCOUNT": "fakesnow",
            "SNOWFLAKE_HOST": "127.0.0.1",
            "SNOWFLAKE_PORT": str(self.port),
        }

    def stop(self) -> None:
        if self.process:
            self.process.stop()
