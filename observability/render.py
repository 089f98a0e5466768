"""Render each dashboard to a PNG from its panels' real query results (there is no Grafana server here).

The layout follows the dashboard JSON (24-column grid); time series come from `query_range` over the run,
stat and bar-gauge panels from instant queries, with Grafana's legend format applied. Used by the real-Prometheus
test and by `make dashboards-png` (which keeps the pictures in docs/dashboards/ for the README).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.gridspec import GridSpec

from observability.grafana import Dashboard, Panel, render
from observability.prometheus import LocalPrometheus
from observability.promql import fill_variables

BACKGROUND, PANEL_BG, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#ff9830", "#96d98d", "#ca95e5"]
ROW_HEIGHT_INCHES = 0.42


def legend(fmt: str, labels: dict[str, str]) -> str:
    if not fmt or fmt == "__auto":
        return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt)


def _format(value: float, unit: str, decimals: int | None) -> str:
    if value != value:  # NaN
        return "NaN"
    if unit == "currencyUSD":
        return f"${value:,.{2 if decimals is None else decimals}f}"
    if unit == "percent":
        return f"{value:+.{2 if decimals is None else decimals}f}%"
    if unit == "s":
        return f"{value:.3g} s" if value < 60 else f"{value / 60:.1f} min"
    if unit == "ops":
        return f"{value:.3g}/s"
    return f"{value:,.{0 if decimals is None else decimals}f}" if decimals is not None else f"{value:.4g}"


def _style(ax: Any, title: str) -> None:
    ax.set_facecolor(PANEL_BG)
    ax.set_title(title, color=TEXT, fontsize=9, loc="left", pad=4)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.tick_params(colors=TEXT, labelsize=7)


def _timeseries(ax: Any, prometheus: LocalPrometheus, panel: Panel, start: float, end: float) -> None:
    step = max(1.0, (end - start) / 300)
    index = 0
    for query in panel.queries:
        for series in prometheus.query_range(fill_variables(query.expr), start, end, step):
            points = [(datetime.fromtimestamp(t, UTC), float(v)) for t, v in series["values"]]
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                color=PALETTE[index % len(PALETTE)],
                linewidth=1.2,
                label=legend(query.legend, series["metric"]),
            )
            index += 1
    ax.grid(color=GRID, linewidth=0.5)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))  # type: ignore[no-untyped-call]
    if index:
        ax.legend(fontsize=6, facecolor=PANEL_BG, edgecolor=GRID, labelcolor=TEXT, loc="upper left", ncol=2)


def _instant(prometheus: LocalPrometheus, panel: Panel) -> list[tuple[str, float]]:
    values = []
    for query in panel.queries:
        for series in prometheus.query(fill_variables(query.expr)):
            values.append((legend(query.legend, series["metric"]), float(series["value"][1])))
    return sorted(values)


def _stat(ax: Any, prometheus: LocalPrometheus, panel: Panel) -> None:
    values = _instant(prometheus, panel)
    ax.set_xticks([])
    ax.set_yticks([])
    columns = max(1, min(len(values), 6))
    for i, (name, value) in enumerate(values):
        x, y = (i % columns + 0.5) / columns, 1 - (i // columns + 0.6) / max(1, -(-len(values) // columns))
        color = PALETTE[0]
        for threshold, threshold_color in panel.thresholds:
            if value >= threshold:
                color = {"red": "#f2495c", "orange": "#ff9830", "green": PALETTE[0]}.get(
                    threshold_color, threshold_color
                )
        text = _format(value, panel.unit, panel.decimals)
        ax.text(x, y, text, ha="center", va="center", color=color, fontsize=13, weight="bold", transform=ax.transAxes)
        ax.text(x, y - 0.22, name, ha="center", va="center", color=TEXT, fontsize=7, transform=ax.transAxes)


def _bargauge(ax: Any, prometheus: LocalPrometheus, panel: Panel) -> None:
    values = _instant(prometheus, panel)
    names = [name for name, _ in values]
    numbers = [value for _, value in values]
    colors = [PALETTE[0] if v >= 0 else "#f2495c" for v in numbers]
    ax.barh(names, numbers, color=colors)
    for y, v in enumerate(numbers):
        ax.text(v, y, " " + _format(v, panel.unit, panel.decimals), va="center", color=TEXT, fontsize=7)
    ax.invert_yaxis()
    ax.grid(axis="x", color=GRID, linewidth=0.5)


def render_dashboard(prometheus: LocalPrometheus, dashboard: Dashboard, out_dir: Path, start: float) -> Path:
    """Draw `dashboard` as Grafana would lay it out; returns the PNG path (`<uid>.png` in `out_dir`)."""
    end = time.time()
    board = render(dashboard)
    layout = [p for p in board["panels"] if p["type"] != "row"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in layout)
    fig = plt.figure(figsize=(16, height * ROW_HEIGHT_INCHES + 0.8), facecolor=BACKGROUND)
    fig.suptitle(
        f"{dashboard.title}   (rendered from a real Prometheus, {datetime.fromtimestamp(end, UTC):%Y-%m-%d %H:%M} UTC)",
        color=TEXT,
        fontsize=12,
        x=0.01,
        ha="left",
    )
    grid = GridSpec(height, 24, figure=fig, hspace=4.0, wspace=1.6, top=1 - 0.6 / (height * ROW_HEIGHT_INCHES + 0.8))
    for panel, spec in zip(dashboard.panels(), layout, strict=True):
        pos = spec["gridPos"]
        ax = fig.add_subplot(grid[pos["y"] : pos["y"] + pos["h"], pos["x"] : pos["x"] + pos["w"]])
        _style(ax, panel.title)
        if panel.kind == "timeseries":
            _timeseries(ax, prometheus, panel, start, end)
        elif panel.kind == "stat":
            _stat(ax, prometheus, panel)
        else:
            _bargauge(ax, prometheus, panel)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dashboard.uid}.png"
    fig.savefig(path, dpi=90, facecolor=BACKGROUND)
    plt.close(fig)
    return path
