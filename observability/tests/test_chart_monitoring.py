"""The chart's monitoring objects as Helm renders them: labels kube-prometheus-stack selects on, the rules and
dashboards from their single sources, and an Alertmanager configuration that the real amtool accepts and
that routes the stockwatch alerts to the e-mail receiver."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from stockwatch_operator.builders import SCRAPED_BY_LABEL, build_deployments, build_podmonitor
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings

from observability.chart import ROOT, alerts, dashboard_json
from stockwatch.testing.k8s import k8s_tool

CHART = ROOT / "charts" / "stockwatch"
KUBE_VERSION = "1.35.0"
ALERTMANAGER_SETS = [
    "monitoring.alertmanager.enabled=true",
    "monitoring.alertmanager.email.smarthost=smtp.example.com:587",
    "monitoring.alertmanager.email.from=stockwatch@example.com",
    "monitoring.alertmanager.email.to={oncall@example.com}",
    "monitoring.alertmanager.email.authUsername=stockwatch",
    "monitoring.alertmanager.email.authPasswordSecret.name=smtp-credentials",
]


def helm_run(*sets: str) -> subprocess.CompletedProcess[str]:
    argv = [str(k8s_tool("helm")), "template", "sw", str(CHART), "--kube-version", KUBE_VERSION]
    argv += ["--set", "monitoring.enabled=true", "--set", "loader.enabled=true"]
    for value in sets:
        argv += ["--set", value]
    return subprocess.run(argv, capture_output=True, text=True)


def helm_template(*sets: str) -> list[dict[str, Any]]:
    result = helm_run(*sets)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return helm_template()


def _kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_monitors_carry_the_release_label_and_fixed_jobs(rendered: list[dict[str, Any]]) -> None:
    monitors = _kind(rendered, "PodMonitor") + _kind(rendered, "ServiceMonitor") + _kind(rendered, "PrometheusRule")
    assert {m["metadata"]["labels"]["release"] for m in monitors} == {"kube-prometheus-stack"}
    jobs = {
        relabel["replacement"]
        for m in _kind(rendered, "PodMonitor")
        for endpoint in m["spec"]["podMetricsEndpoints"]
        for relabel in endpoint.get("relabelings", [])
        if relabel.get("targetLabel") == "job"
    }
    assert {"stockwatch-producer", "stockwatch-loader", "stockwatch-operator"} <= jobs


def test_each_producer_is_scraped_once_with_the_same_labels(rendered: list[dict[str, Any]]) -> None:
    """The chart's PodMonitor for all producers and a watchlist's own (spec.podMonitor) never select the same pod,
    and give the series the same job, watchlist and shard labels."""
    (chart,) = [m for m in _kind(rendered, "PodMonitor") if m["metadata"]["name"].endswith("producers")]
    assert {"key": SCRAPED_BY_LABEL, "operator": "DoesNotExist"} in chart["spec"]["selector"]["matchExpressions"]
    body = yaml.safe_load((ROOT / "operator" / "examples" / "websocket.yaml").read_text())
    body["metadata"].update(namespace="team-a", uid="uid-1")
    watchlist = Watchlist.from_body(body)
    own = build_podmonitor(watchlist)
    for deployment in build_deployments(watchlist, OperatorSettings()):
        assert deployment["spec"]["template"]["metadata"]["labels"][SCRAPED_BY_LABEL] == "watchlist"
    (own_endpoint,), (chart_endpoint,) = own["spec"]["podMetricsEndpoints"], chart["spec"]["podMetricsEndpoints"]
    assert own_endpoint["relabelings"] == chart_endpoint["relabelings"]


def test_prometheusrule_is_the_rules_source(rendered: list[dict[str, Any]]) -> None:
    (rule,) = _kind(rendered, "PrometheusRule")
    rendered_alerts = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    assert [r["alert"] for r in rendered_alerts] == [r["alert"] for r in alerts()]
    for got, want in zip(rendered_alerts, alerts(), strict=True):
        assert got["expr"] == want["expr"]
        assert got["annotations"] == want["annotations"]  # Prometheus templates survive Helm untouched


def test_runbook_base_url_is_configurable() -> None:
    docs = helm_template("monitoring.runbookBaseUrl=https://wiki.example.com/runbooks")
    (rule,) = _kind(docs, "PrometheusRule")
    urls = {r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"]}
    assert all(url.startswith("https://wiki.example.com/runbooks#stockwatch") for url in urls)


def test_dashboards_are_configmaps_for_the_grafana_sidecar(rendered: list[dict[str, Any]]) -> None:
    maps = [m for m in _kind(rendered, "ConfigMap") if m["metadata"]["labels"].get("grafana_dashboard") == "1"]
    boards = {key: json.loads(value) for m in maps for key, value in m["data"].items()}
    assert boards == dashboard_json()


def amtool() -> str:
    path = shutil.which("amtool")
    if path is None:
        pytest.fail("amtool is not installed: run `make prometheus-tools` (Debian package prometheus-alertmanager)")
    return path


def test_alertmanager_config_is_valid_and_routes_to_email(tmp_path: Path) -> None:
    (secret,) = [d for d in helm_template(*ALERTMANAGER_SETS) if d["kind"] == "Secret"]
    assert secret["metadata"]["namespace"] == "monitoring"
    config = tmp_path / "alertmanager.yaml"
    config.write_text(secret["stringData"]["alertmanager.yaml"])
    check = subprocess.run([amtool(), "check-config", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "smtp-credentials" in config.read_text()

    def route(*labels: str) -> str:
        argv = [amtool(), "config", "routes", "test", f"--config.file={config}", *labels]
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    for rule in alerts():
        assert route(f"alertname={rule['alert']}", f"severity={rule['labels']['severity']}") == "stockwatch-email"
    assert route("alertname=KubePodCrashLooping", "severity=warning") == "null"


def test_alertmanager_config_needs_a_recipient() -> None:
    sets = [value for value in ALERTMANAGER_SETS if not value.startswith("monitoring.alertmanager.email.to=")]
    result = helm_run(*sets)
    assert result.returncode != 0
    assert "monitoring.alertmanager.email.to needs at least one address" in result.stderr


def test_alertmanager_config_off_by_default(rendered: list[dict[str, Any]]) -> None:
    assert [d for d in rendered if d["kind"] == "Secret" and "alertmanager" in d["metadata"]["name"]] == []
