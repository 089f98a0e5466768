"""docs/metrics.md, parsed: the metrics contract the processes, dashboards and alerts are checked against."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METRICS_DOC = ROOT / "docs" / "metrics.md"
_ROW = re.compile(r"^\|\s*`(?P<name>[a-z_:][a-z0-9_:]*)`\s*\|(?P<rest>.*)\|\s*$")


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    labels: frozenset[str]
    component: str
    meaning: str


def _cells(rest: str) -> list[str]:
    return [cell.strip() for cell in rest.split("|")]


def load_contract(path: Path = METRICS_DOC) -> dict[str, Metric]:
    """The `## Metrics` table: name -> Metric. Raises if a row is malformed or a name repeats."""
    metrics: dict[str, Metric] = {}
    in_table = False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            in_table = line.strip() == "## Metrics"
            continue
        match = _ROW.match(line)
        if not in_table or not match:
            continue
        cells = _cells(match.group("rest"))
        if len(cells) != 4:
            raise ValueError(f"{path.name}: a metrics row needs 5 columns: {line}")
        mtype, labels, component, meaning = cells
        if mtype not in {"counter", "gauge", "histogram", "summary"}:
            raise ValueError(f"{path.name}: unknown type {mtype!r} for {match.group('name')}")
        name = match.group("name")
        if name in metrics:
            raise ValueError(f"{path.name}: {name} is listed twice")
        metrics[name] = Metric(
            name=name,
            type=mtype,
            labels=frozenset(re.findall(r"`([a-z_][a-z0-9_]*)`", labels)),
            component=component,
            meaning=meaning,
        )
    if not metrics:
        raise ValueError(f"{path.name}: no `## Metrics` table found")
    return metrics


def platform_metrics(path: Path = METRICS_DOC) -> set[str]:
    """Metric names of the `## Metrics from the platform ...` table (up, kube-state-metrics, kafka-exporter)."""
    names: set[str] = set()
    in_table = False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            in_table = line.startswith("## Metrics from the platform")
            continue
        if in_table and line.startswith("| `"):
            names.update(re.findall(r"`([a-z_:][a-z0-9_:]*)`", line.split("|")[1]))
    return names


def documented_names(path: Path = METRICS_DOC) -> set[str]:
    return set(load_contract(path)) | platform_metrics(path)
