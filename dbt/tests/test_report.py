"""`stockwatch report` from the built marts: one self-contained HTML page, and the text table."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from dbt_warehouse import SYMBOLS, Warehouse
from typer.testing import CliRunner

from stockwatch.cli import app
from stockwatch.models import dbt_env
from stockwatch.report import load_daily, performance, write_report

pytestmark = [pytest.mark.warehouse, pytest.mark.kafka, pytest.mark.slow]


def test_html_report_is_self_contained(built_warehouse: Warehouse, tmp_path: Path) -> None:
    path = write_report(built_warehouse.settings, tmp_path / "out" / "report.html")
    page = path.read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == len(SYMBOLS)
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert len(min(images, key=len)) > 20_000  # real charts, not empty canvases
    assert not re.search(r"(src|href)=['\"](https?:)?//", page)  # nothing fetched from elsewhere
    for symbol in SYMBOLS:
        assert f"<section id='{symbol}'>" in page


def test_performance_table_from_the_mart(built_warehouse: Warehouse) -> None:
    frame = load_daily(built_warehouse.settings)
    perf = {p.symbol: p for p in performance(frame)}
    assert sorted(perf) == sorted(SYMBOLS)
    for symbol, p in perf.items():
        rows = frame[frame.symbol == symbol]
        assert p.last_close == rows.close.iloc[-1]
        assert p.day_change == pytest.approx(rows.close.iloc[-1] / rows.close.iloc[-2] - 1)
        assert p.change_52w is not None
        assert p.volatility_30d is not None
        assert p.rsi_14 is not None
        assert 0 <= p.rsi_14 <= 100


def test_cli_report_text_and_html(built_warehouse: Warehouse, tmp_path: Path) -> None:
    env = dbt_env(built_warehouse.settings, "local")
    runner = CliRunner()
    text = runner.invoke(app, ["report", "--text"], env=env)
    assert text.exit_code == 0, text.output
    assert all(symbol in text.output for symbol in SYMBOLS)
    html = runner.invoke(app, ["report", "--output", str(tmp_path / "r.html"), "--symbols", "AAPL"], env=env)
    assert html.exit_code == 0, html.output
    assert (tmp_path / "r.html").read_text().count("data:image/png;base64,") == 1
