"""`stockwatch demo` (what `make demo` runs) end to end: Kafka, warehouse, producer, loader, dbt, report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stockwatch.config import DEFAULT_SYMBOLS
from stockwatch.local.process import free_port


@pytest.mark.slow
def test_demo_runs_the_whole_path_and_writes_the_report(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    out = subprocess.run(
        [sys.executable, "-m", "stockwatch", "demo", "--duration", "6", "--history-days", "60",
         "--workdir", str(workdir), "--metrics-port", str(free_port())],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-4000:]
    published, loaded = map(int, re.search(r"published (\d+), loaded (\d+)", text).groups())  # type: ignore[union-attr]
    assert published == loaded > 0
    assert "dead letters 0" in text
    rows = dict(re.findall(r"([A-Z]+) (\d+)", text.split("rows per symbol:", 1)[1].split(">>", 1)[0]))
    assert set(rows) == set(DEFAULT_SYMBOLS)  # every one of the ten symbols reached RAW
    report = workdir / "report.html"
    assert report.is_file()
    html = report.read_text()
    assert all(symbol in html for symbol in DEFAULT_SYMBOLS)
    assert html.count("data:image/png;base64,") >= len(DEFAULT_SYMBOLS)  # self-contained charts
