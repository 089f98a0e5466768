"""Static checks of the dashboards (the real-Prometheus test evaluates them; these fail fast without one)."""

from __future__ import annotations

import json

import pytest

from observability.chart import DASHBOARD_JSON_DIR, dashboard_json
from observability.checks import undocumented_metrics
from observability.dashboards import DASHBOARDS
from observability.grafana import Panel
from observability.promql import fill_variables

PANELS = [(dashboard.title, panel) for dashboard in DASHBOARDS for panel in dashboard.panels()]


def test_three_dashboards_with_unique_uids() -> None:
    titles = [d.title for d in DASHBOARDS]
    assert titles == ["StockWatch / Market overview", "StockWatch / Pipeline health", "StockWatch / Operator"]
    assert len({d.uid for d in DASHBOARDS}) == len(DASHBOARDS)


@pytest.mark.parametrize(("dashboard", "panel"), PANELS, ids=[f"{d}/{p.title}" for d, p in PANELS])
def test_panel_queries_use_contract_metrics(dashboard: str, panel: Panel) -> None:
    assert panel.queries
    for query in panel.queries:
        expr = fill_variables(query.expr)
        assert "$" not in expr, f"a Grafana variable the checks cannot fill: {query.expr}"
        assert undocumented_metrics(expr) == set()


def test_renamed_metric_is_caught_without_prometheus() -> None:
    assert undocumented_metrics("sum(rate(stockwatch_quotes_published[1m]))") == {"stockwatch_quotes_published"}


def test_grafana_json_is_valid_and_laid_out() -> None:
    for name, board in dashboard_json().items():
        assert json.loads((DASHBOARD_JSON_DIR / name).read_text()) == board
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
