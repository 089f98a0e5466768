"""Fixtures of the chart tests: the real helm (built by scripts/k8s-tools.sh) and the rendered scenarios."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from charts.tests.chartlib import SCENARIOS, Helm, Manifest, tool_bin


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """helm, built from the Go module proxy on first use; a build failure fails the tests (no skip)."""
    return Helm(tool_bin("helm"), tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def render(helm: Helm) -> Callable[[Path], list[Manifest]]:
    """render(scenario path) -> manifests, each scenario rendered once per session."""

    @functools.cache
    def _render(scenario: Path) -> list[Manifest]:
        return helm.template([scenario])

    return _render


def scenario_id(path: Path) -> str:
    return path.name.removesuffix("-values.yaml")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario" in metafunc.fixturenames:
        metafunc.parametrize("scenario", SCENARIOS, ids=[scenario_id(p) for p in SCENARIOS])
