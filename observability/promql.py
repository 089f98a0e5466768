"""Just enough PromQL handling for the checks: metric names an expression uses, Grafana variables filled in.

The authority on PromQL is Prometheus itself (the real-Prometheus test evaluates every expression); this
only finds the metric names so a renamed metric fails against docs/metrics.md before any data is needed.
"""

from __future__ import annotations

import re

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool"}
    | {"inf", "nan", "atan2", "start", "end"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# Values for Grafana's variables when an expression is evaluated outside Grafana.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "10m",
    "$symbol": ".*",
}


def fill_variables(expr: str, values: dict[str, str] | None = None) -> str:
    """Replace Grafana variables (longest first, so `$__range` does not eat `$__rate_interval`)."""
    table = {**GRAFANA_VARIABLES, **(values or {})}
    for name in sorted(table, key=len, reverse=True):
        expr = expr.replace(name, table[name]).replace("${" + name[1:] + "}", table[name])
    return expr


def metric_names(expr: str) -> set[str]:
    """Metric names selected by `expr` (functions, keywords, label names and numbers left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("{}", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


def base_metric(name: str, histograms: set[str]) -> str:
    """`x_bucket` -> `x` when `x` is a histogram of the contract."""
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in histograms:
            return name.removesuffix(suffix)
    return name
