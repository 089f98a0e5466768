"""Checks of dashboards and alerts against a running Prometheus (used by the tests and the PNG renderer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observability.contract import documented_names, load_contract
from observability.grafana import Dashboard, Panel, Query
from observability.prometheus import LocalPrometheus, PrometheusError
from observability.promql import base_metric, fill_variables, metric_names


@dataclass(frozen=True)
class QueryResult:
    query: Query
    expr: str
    series: list[dict[str, Any]]
    error: str | None = None


def undocumented_metrics(expr: str) -> set[str]:
    """Metric names in `expr` that docs/metrics.md does not list."""
    histograms = {name for name, metric in load_contract().items() if metric.type == "histogram"}
    return {base_metric(name, histograms) for name in metric_names(expr)} - documented_names()


def evaluate_panel(prometheus: LocalPrometheus, panel: Panel) -> list[QueryResult]:
    results: list[QueryResult] = []
    for query in panel.queries:
        expr = fill_variables(query.expr)
        try:
            results.append(QueryResult(query, expr, prometheus.query(expr)))
        except PrometheusError as exc:
            results.append(QueryResult(query, expr, [], str(exc)))
    return results


def panel_problems(prometheus: LocalPrometheus, panel: Panel) -> list[str]:
    """Why a panel would be broken in Grafana: a query Prometheus refuses, an undocumented metric, or no data."""
    problems: list[str] = []
    results = evaluate_panel(prometheus, panel)
    for result in results:
        if result.error:
            problems.append(f"{panel.title!r}: Prometheus refuses {result.expr!r}: {result.error}")
        missing = undocumented_metrics(result.expr)
        if missing:
            problems.append(f"{panel.title!r}: {sorted(missing)} not in docs/metrics.md")
    if not any(result.series for result in results):
        problems.append(f"{panel.title!r}: no data from {[r.expr for r in results]}")
    return problems


def dashboard_problems(prometheus: LocalPrometheus, dashboard: Dashboard) -> list[str]:
    return [problem for panel in dashboard.panels() for problem in panel_problems(prometheus, panel)]
