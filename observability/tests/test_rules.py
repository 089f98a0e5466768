"""The alert rules: valid for promtool, unit-tested firing and not firing, documented, on contract metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from observability.chart import alerts, rule_files, stale
from observability.contract import ROOT, documented_names, load_contract
from observability.promql import base_metric, metric_names

PROMTOOL_TESTS = sorted((Path(__file__).parent / "promtool").glob("*.test.yaml"))
RUNBOOKS = ROOT / "docs" / "runbooks.md"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run `make prometheus-tools` (Debian package prometheus)")
    return path


def test_promtool_check_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", *map(str, rule_files())], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


@pytest.mark.parametrize("test_file", PROMTOOL_TESTS, ids=lambda p: p.name)
def test_promtool_unit_tests(test_file: Path) -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", test_file.name], cwd=test_file.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _cases() -> tuple[set[str], set[str]]:
    """Alert names with a firing case and with a not-firing case in the promtool tests."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in PROMTOOL_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    return firing, quiet


def test_every_alert_has_firing_and_quiet_cases() -> None:
    names = {rule["alert"] for rule in alerts()}
    firing, quiet = _cases()
    assert names - firing == set(), "alerts without a firing promtool test"
    assert names - quiet == set(), "alerts without a not-firing promtool test"
    assert (firing | quiet) - names == set(), "promtool tests of alerts that do not exist"


def _anchors(markdown: str) -> set[str]:
    return {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in markdown.splitlines()
        if line.startswith("## ")
    }


@pytest.mark.parametrize("rule", alerts(), ids=lambda r: str(r["alert"]))
def test_alert_is_documented(rule: dict[str, object]) -> None:
    annotations = rule["annotations"]
    assert isinstance(annotations, dict)
    assert {"summary", "description", "runbook_url"} <= set(annotations)
    labels = rule.get("labels")
    assert isinstance(labels, dict)
    assert labels.get("severity") in {"critical", "warning"}
    anchor = str(annotations["runbook_url"]).rpartition("#")[2]
    assert anchor == str(rule["alert"]).lower()
    assert anchor in _anchors(RUNBOOKS.read_text()), f"docs/runbooks.md has no section for {rule['alert']}"


@pytest.mark.parametrize("rule", alerts(), ids=lambda r: str(r["alert"]))
def test_alert_uses_contract_metrics(rule: dict[str, object]) -> None:
    contract = load_contract()
    histograms = {name for name, m in contract.items() if m.type == "histogram"}
    used = {base_metric(name, histograms) for name in metric_names(str(rule["expr"]))}
    assert used, "an alert expression without a metric"
    assert used - documented_names() == set(), "metrics missing from docs/metrics.md"


def test_chart_is_generated_from_the_sources() -> None:
    assert stale() == [], "run `make observability` and commit the result"
