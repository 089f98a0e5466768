"""`stockwatch warehouse local`: the in-cluster warehouse of the chart's `localWarehouse`, run for real."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stockwatch.config import SnowflakeSettings
from stockwatch.local.process import free_port, port_open, wait_for
from stockwatch.warehouse import connect, raw_count

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


def test_serves_an_initialised_warehouse_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stockwatch", "warehouse", "local", "--host", "0.0.0.0", "--port", str(port),  # noqa: S104
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: port_open(port) or proc.poll() is not None, 60, "the warehouse port")
        settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=port, protocol="http")

        def initialised() -> bool:
            try:
                return raw_count(settings) == 0
            except Exception:  # the database is created right after the port opens
                return False

        wait_for(initialised, 30, "RAW_STOCKS.STOCK_PRICES to exist")
        with connect(settings) as conn:
            schemas = {row[1] for row in conn.cursor().execute("SHOW SCHEMAS IN DATABASE STOCKS_FIN").fetchall()}
        assert {"RAW_STOCKS", "STG_STOCKS", "INT_STOCKS", "MARTS_STOCKS"} <= {s.upper() for s in schemas}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not port_open(port)
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate()[0]
    assert "local warehouse ready" in output
