"""The embedded Snowflake-compatible warehouse: a `fakesnow -s` server over DuckDB files in a data dir.

snowflake-connector-python and dbt-snowflake reach it by host/port (see `SnowflakeSettings`), so the
pipeline's code path is the one that serves real Snowflake.
"""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import structlog

from stockwatch.config import SnowflakeSettings
from stockwatch.local.process import ManagedProcess, free_port, port_open

log = structlog.get_logger(__name__)


class LocalFakesnow:
    def __init__(self, data_dir: Path, port: int | None = None, host: str = "127.0.0.1"):
        self.data_dir = data_dir
        self.port = port or free_port()
        self.host = host
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        exe = shutil.which("fakesnow", path=str(Path(sys.executable).parent)) or "fakesnow"
        argv = [exe, "-s", "--host", self.host, "-p", str(self.port), "-d", str(self.data_dir)]
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


def serve(data_dir: Path, host: str, port: int, database: str, stop: threading.Event) -> None:
    """Run the warehouse with `database` initialised (RAW_STOCKS.STOCK_PRICES and the model schemas) until `stop`.

    `stockwatch warehouse local`: the chart's `localWarehouse` for kind clusters without a Snowflake account.
    Raises when the server exits by itself, so a supervisor (Kubernetes) restarts it.
    """
    from stockwatch.warehouse import init_warehouse

    server = LocalFakesnow(data_dir, port, host=host)
    server.start()
    process = server.process
    assert process is not None  # start() set it
    try:
        init_warehouse(SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=server.port, database=database))
        log.info("local warehouse ready", host=host, port=server.port, database=database)
        while not stop.wait(1.0):
            if not process.running:
                raise RuntimeError(f"the fakesnow server exited:\n{process.log_tail()}")
    finally:
        server.stop()
