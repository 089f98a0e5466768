"""`stockwatch warehouse local`: the in-cluster warehouse of the chart's `localWarehouse`, run for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stockwatch.config import SnowflakeSettings
from stockwatch.local.process import free_port, port_open, wait_for
from stockwatch.warehouse import connect, raw_count

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


def start(tmp_path: Path) -> tuple[subprocess.Popen[str], SnowflakeSettings]:
    """Start the command; return it once RAW exists (the database is created right after the port opens)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stockwatch", "warehouse", "local", "--host", "0.0.0.0", "--port", str(port),  # noqa: S104
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=port, protocol="http")

    def initialised() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the command exited: {proc.communicate()[0]}")
        try:
            return raw_count(settings) == 0
        except Exception:
            return False

    wait_for(initialised, 60, "RAW_STOCKS.STOCK_PRICES to exist")
    return proc, settings


def test_serves_an_initialised_warehouse_until_sigterm(tmp_path: Path) -> None:
    proc, settings = start(tmp_path)
    port = settings.port
    assert port is not None
    try:
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


def test_exits_with_an_error_when_the_server_dies(tmp_path: Path) -> None:
    proc, _ = start(tmp_path)
    try:
        (child,) = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(child), signal.SIGKILL)  # the fakesnow server, as if OOM-killed
        assert proc.wait(timeout=30) != 0  # so Kubernetes restarts the pod
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "the fakesnow server exited" in proc.communicate()[0]
