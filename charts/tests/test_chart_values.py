"""values.yaml and values.schema.json are one contract: same keys, a comment on every key, and helm enforces it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from charts.tests.chartlib import CHART, Helm, HelmError

VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
SCHEMA = json.loads((CHART / "values.schema.json").read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        assert ref.startswith("#/$defs/"), ref
        return dict(SCHEMA["$defs"][ref.removeprefix("#/$defs/")])
    return node


def value_paths(node: Any, schema: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of values.yaml, descending only where the schema describes named properties."""
    paths: set[str] = set()
    schema = _resolve(schema)
    if not isinstance(node, dict) or "properties" not in schema:
        return paths
    for key, child in node.items():
        path = f"{prefix}{key}"
        paths.add(path)
        sub = schema["properties"].get(key)
        if sub is not None:
            paths |= value_paths(child, sub, f"{path}.")
    return paths


def schema_paths(schema: dict[str, Any], node: Any, prefix: str = "") -> set[str]:
    """Dotted paths the schema names, descending where values.yaml has a mapping to compare with."""
    paths: set[str] = set()
    schema = _resolve(schema)
    for key, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}{key}"
        paths.add(path)
        if isinstance(node, dict) and isinstance(node.get(key), dict):
            paths |= schema_paths(sub, node[key], f"{path}.")
    return paths


def test_every_values_key_is_in_the_schema_and_back() -> None:
    in_values = value_paths(VALUES, SCHEMA)
    in_schema = schema_paths(SCHEMA, VALUES)
    assert in_values - in_schema == set(), "values.yaml keys missing from values.schema.json"
    assert in_schema - in_values == set(), "values.schema.json properties missing from values.yaml"
    assert len(in_values) > 80  # the walk really descended


def test_every_schema_property_has_a_description_or_ref() -> None:
    missing: list[str] = []

    def walk(schema: dict[str, Any], prefix: str) -> None:
        for key, sub in (schema.get("properties") or {}).items():
            if "description" not in sub and "$ref" not in sub:
                missing.append(prefix + key)
            walk(sub, f"{prefix}{key}.")

    walk(SCHEMA, "")
    assert missing == []


def test_every_values_key_has_a_comment_above_it() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    key_line = re.compile(r"^(\s*)([A-Za-z][\w.-]*):")
    uncommented: list[str] = []
    for number, line in enumerate(lines):
        match = key_line.match(line)
        if not match:
            continue
        previous = lines[number - 1].strip() if number else ""
        if not previous.startswith("#"):
            uncommented.append(f"line {number + 1}: {line.strip()}")
    assert uncommented == []


def test_the_chart_defaults_are_valid(helm: Helm) -> None:
    helm.lint()


@pytest.mark.parametrize(
    ("bad_value", "message"),
    [
        ("podSecurityContext.runAsNonRoot=false", "runAsNonRoot"),
        ("containerSecurityContext.allowPrivilegeEscalation=true", "allowPrivilegeEscalation"),
        ("kafka.topics.quotes.partitions=0", "partitions"),
        ("dbt.failedJobsHistoryLimit=0", "failedJobsHistoryLimit"),
        ("snowflake.auth=token", "auth"),
        ("operator.logLevel=TRACE", "logLevel"),
        ("kafka.nodePool.storage.type=local", "type"),
        ("images.pipeline.digest=latest", "digest"),
        ("opertor.enabled=true", "opertor"),
    ],
)
def test_helm_refuses_values_that_break_the_schema(helm: Helm, bad_value: str, message: str) -> None:
    with pytest.raises(HelmError, match=r"(?s)don't meet the specifications.*" + re.escape(message)):
        helm.template(sets=[bad_value])
