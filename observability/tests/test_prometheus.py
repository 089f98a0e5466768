"""Issue 7 §5, for real: Prometheus scrapes the running producers, loader and operator while data flows; every
dashboard panel and alert expression is evaluated through its HTTP API, and the processes export exactly the
metrics docs/metrics.md lists. Negative tests show that a renamed metric or broken PromQL is caught."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from observability.chart import alerts
from observability.checks import panel_problems
from observability.contract import load_contract
from observability.dashboards import DASHBOARDS, PIPELINE_HEALTH
from observability.grafana import Panel, Query
from observability.tests.conftest import FLOW_CHECKS, Pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.warehouse, pytest.mark.k8s, pytest.mark.slow]

PANELS = [(dashboard.title, panel) for dashboard in DASHBOARDS for panel in dashboard.panels()]


def _exported(port: int) -> dict[str, tuple[str, set[str]]]:
    """stockwatch_* metric name -> (type, label names) as one process serves them on /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    exported: dict[str, tuple[str, set[str]]] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("stockwatch_") or family.name.endswith("_created"):
            continue
        name = f"{family.name}_total" if family.type == "counter" else family.name
        labels = {label for sample in family.samples for label in sample.labels if label not in {"le", "quantile"}}
        exported[name] = (family.type, labels)
    return exported


def test_every_target_is_up(pipeline: Pipeline) -> None:
    targets = pipeline.prometheus.targets()
    assert {t["labels"]["job"] for t in targets} == {"stockwatch-producer", "stockwatch-loader", "stockwatch-operator"}
    assert [t["scrapeUrl"] for t in targets if t["health"] != "up"] == []


def test_processes_export_exactly_the_contract(pipeline: Pipeline) -> None:
    contract = load_contract()
    seen: set[str] = set()
    for name, port in pipeline.metrics_ports.items():
        exported = _exported(port)
        component = pipeline.components[name]
        wanted = {metric for metric, spec in contract.items() if spec.component == component}
        assert wanted - set(exported) == set(), f"{name} does not export metrics docs/metrics.md lists for it"
        assert set(exported) - set(contract) == set(), f"{name} exports metrics docs/metrics.md does not list"
        for metric, (mtype, labels) in exported.items():
            spec = contract[metric]
            assert mtype == spec.type, f"{metric}: exported as {mtype}, documented as {spec.type}"
            assert labels <= spec.labels, f"{metric}: labels {sorted(labels)} vs documented {sorted(spec.labels)}"
        seen |= set(exported)
    assert set(contract) - seen == set(), "documented metrics that no process exports"


def test_every_documented_label_shows_up(pipeline: Pipeline) -> None:
    """With data flowing, each labeled metric of the contract has a series carrying exactly its labels."""
    contract = load_contract()
    missing = []
    for metric, spec in contract.items():
        if not spec.labels:
            continue
        series = pipeline.prometheus.api(
            "series", **{"match[]": metric + ("_bucket" if spec.type == "histogram" else "")}
        )
        label_sets = [set(s) - {"__name__", "job", "instance", "namespace", "pod", "watchlist", "le"} for s in series]
        if spec.labels not in label_sets:
            missing.append(f"{metric}{sorted(spec.labels)}: got {label_sets}")
    # A healthy operator has no errors to count by kind: the one labeled metric allowed to have no series yet.
    assert [m for m in missing if not m.startswith("stockwatch_operator_errors_total")] == []


def test_data_flows_end_to_end(pipeline: Pipeline) -> None:
    """Not just series, the right ones: quotes published, rows merged into RAW, bad messages dead-lettered."""
    prometheus = pipeline.prometheus
    for expr in FLOW_CHECKS:
        assert prometheus.query(expr), f"no data for {expr}"
    assert len(prometheus.query("sum by (watchlist) (stockwatch_quotes_published_total) > 0")) == 3
    assert {s["metric"]["source"] for s in prometheus.query("stockwatch_quotes_fetched_total > 0")} >= {
        "finnhub-rest",
        "finnhub-ws",
    }
    assert {s["metric"]["reason_class"] for s in prometheus.query("stockwatch_loader_dlq_messages_total > 0")} == {
        "not_json",
        "schema",
    }
    assert len(prometheus.query("sum by (symbol) (stockwatch_loader_rows_loaded_total) > 0")) >= 4


@pytest.mark.parametrize(("dashboard", "panel"), PANELS, ids=[f"{d}/{p.title}" for d, p in PANELS])
def test_panel_has_data(pipeline: Pipeline, dashboard: str, panel: Panel) -> None:
    assert panel_problems(pipeline.prometheus, panel) == []


def test_rules_loaded_and_healthy(pipeline: Pipeline) -> None:
    rules = {r["name"]: r for g in pipeline.prometheus.rule_groups() for r in g["rules"]}
    assert set(rules) == {rule["alert"] for rule in alerts()}
    assert {name: r.get("lastError") for name, r in rules.items() if r["health"] != "ok"} == {}


@pytest.mark.parametrize("rule", alerts(), ids=lambda r: str(r["alert"]))
def test_alert_expression_evaluates(pipeline: Pipeline, rule: dict[str, object]) -> None:
    pipeline.prometheus.query(str(rule["expr"]))  # raises PrometheusError on a bad expression


def test_healthy_pipeline_fires_no_pipeline_alert(pipeline: Pipeline) -> None:
    """Producers publish, the loader commits: the alerts on them evaluate to nothing right now."""
    quiet = {"StockWatchProducerDown", "StockWatchLoaderDown", "StockWatchOperatorDown", "StockWatchLoaderFailing"}
    quiet |= {"StockWatchLoaderStalled", "StockWatchDataStale", "StockWatchConsumerLagHigh"}
    quiet |= {"StockWatchOperatorReconcileErrors", "StockWatchDbtJobFailed", "StockWatchDbtLate"}
    for rule in alerts():
        if rule["alert"] in quiet:
            assert pipeline.prometheus.query(str(rule["expr"])) == [], rule["alert"]


# -- negative: what `make test` must catch -------------------------------------------------------------------


def _first_panel(title: str) -> Panel:
    return next(p for p in PIPELINE_HEALTH.panels() if p.title == title)


def test_renamed_metric_in_a_panel_is_caught(pipeline: Pipeline) -> None:
    panel = _first_panel("Consumer lag")
    broken = replace(panel, queries=(Query("max(stockwatch_loader_consumer_lag_messages)"),))
    problems = panel_problems(pipeline.prometheus, broken)
    assert any("not in docs/metrics.md" in p for p in problems)
    assert any("no data" in p for p in problems)


def test_broken_promql_in_a_panel_is_caught(pipeline: Pipeline) -> None:
    panel = _first_panel("Consumer lag")
    broken = replace(panel, queries=(Query("max(stockwatch_loader_consumer_lag"),))
    problems = panel_problems(pipeline.prometheus, broken)
    assert any("Prometheus refuses" in p and "bad_data" in p for p in problems)


def test_renamed_metric_in_the_code_is_caught(pipeline: Pipeline, tmp_path: Path) -> None:
    """The contract check compares names: a process exporting a renamed metric fails it."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
    renamed = tmp_path / "metrics.md"
    renamed.write_text(doc.read_text().replace("`stockwatch_last_price`", "`stockwatch_last_price_usd`"))
    contract = load_contract(renamed)
    exported = _exported(pipeline.metrics_ports["producer-synthetic"])
    assert "stockwatch_last_price" in set(exported) - set(contract)


def test_render_png(pipeline: Pipeline, tmp_path: Path) -> None:
    """Each dashboard as a PNG from the panels' real query results (make dashboards-png keeps them in docs/)."""
    from observability.render import render_dashboard

    out = Path(os.environ.get("STOCKWATCH_DASHBOARDS_PNG") or tmp_path)
    for dashboard in DASHBOARDS:
        path = render_dashboard(pipeline.prometheus, dashboard, out, start=pipeline.started)
        assert path.stat().st_size > 10_000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
