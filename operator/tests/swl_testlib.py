"""Helpers for the operator tests: example watchlists as bodies, paths of the CRD, examples and RBAC."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = ROOT / "charts" / "stockwatch-crds" / "templates" / "stockwatchlists.yaml"
EXAMPLES = ROOT / "operator" / "examples"
RBAC_PATH = ROOT / "operator" / "rbac" / "rbac.yaml"
PEERING_PATH = ROOT / "operator" / "rbac" / "peering.yaml"
TEST_IMAGE = "registry.example/stockwatch/pipeline:test"
T = TypeVar("T")


def example(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def as_body(manifest: dict[str, Any], namespace: str = "team-a", uid: str = "uid-1", **meta: Any) -> dict[str, Any]:
    body = copy.deepcopy(manifest)
    body["metadata"] = {
        **body["metadata"],
        "namespace": namespace,
        "uid": uid,
        "generation": 1,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        **meta,
    }
    return body


def crd() -> dict[str, Any]:
    loaded = yaml.safe_load(CRD_PATH.read_text())
    assert isinstance(loaded, dict)
    return loaded


def wait_until(check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll `check` until it returns something other than None/False; fail naming `what` (and the last value)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last is not None and last is not False:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
