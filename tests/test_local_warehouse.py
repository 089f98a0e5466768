"""`stockwatch warehouse local`: the in-cluster warehouse of the chart's `localWarehouse`, run for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from stockwatch.config import SnowflakeSettings
from stockwatch.local.process import free_port, port_open, wait_for
from stockwatch.warehouse import connect, raw_count

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]


class Output:
    """The command's output, read as it comes (a thread), so a test can wait for a line before acting."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        self.thread = threading.Thread(target=lambda: self.lines.extend(proc.stdout or []), daemon=True)
        self.thread.start()

    def text(self) -> str:
        return "".join(self.lines)

    def closed(self) -> str:
        """All of it, once the command has exited."""
        self.thread.join(timeout=10)
        return self.text()


def start(tmp_path: Path) -> tuple[subprocess.Popen[str], SnowflakeSettings, Output]:
    """Start the command; return it once it says it is ready (after initialising the warehouse: killing the server
    while the initialisation still runs would test the connector's retries, not the supervision)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stockwatch", "warehouse", "local", "--host", "0.0.0.0", "--port", str(port),  # noqa: S104
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    settings = SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=port, protocol="http")
    output = Output(proc)

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the command exited: {output.closed()}")
        return "local warehouse ready" in output.text()

    wait_for(ready, 90, "the local warehouse to be ready")
    assert raw_count(settings) == 0
    return proc, settings, output


def test_serves_an_initialised_warehouse_until_sigterm(tmp_path: Path) -> None:
    proc, settings, output = start(tmp_path)
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
    assert "local warehouse ready" in output.closed()


def test_exits_with_an_error_when_the_server_dies(tmp_path: Path) -> None:
    proc, _, output = start(tmp_path)
    try:
        (child,) = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(child), signal.SIGKILL)  # the fakesnow server, as if OOM-killed
        assert proc.wait(timeout=30) != 0  # so Kubernetes restarts the pod
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "the fakesnow server exited" in output.closed()
