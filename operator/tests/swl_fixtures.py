"""Operator integration fixtures, imported by the test modules: the operator under its own ServiceAccount token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from swl_operator import OperatorProcess
from swl_testlib import RBAC_PATH, TEST_IMAGE

from stockwatch.testing.k8s import KubeAPIServer, KubeControllerManager


@pytest.fixture(scope="module", name="operator_kubeconfig")
def operator_kubeconfig_fixture(kube_apiserver: KubeAPIServer) -> Path:
    """Apply operator/rbac/rbac.yaml as shipped and return a kubeconfig holding that ServiceAccount's token."""
    made = kube_apiserver.kubectl("create", "namespace", "stockwatch", check=False)
    assert made.returncode == 0 or "AlreadyExists" in made.stderr, made.stderr
    kube_apiserver.kubectl("apply", "-f", str(RBAC_PATH))
    return kube_apiserver.service_account_kubeconfig("stockwatch", "stockwatch-operator")


@pytest.fixture(scope="module", name="operator")
def operator_fixture(
    kube_apiserver: KubeAPIServer,
    kube_controller_manager: KubeControllerManager,
    operator_kubeconfig: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    """The operator (all namespaces, standalone), repairing drift every second, with the RBAC-limited token.

    kube-controller-manager runs too: ReplicaSets and Pods get created (so the restricted Pod Security admission
    judges the producer pods) and owner references cascade.
    """
    process = OperatorProcess(
        operator_kubeconfig,
        tmp_path_factory.mktemp("operator") / "operator.log",
        env={"STOCKWATCH_RECONCILE_INTERVAL_SECONDS": "1", "STOCKWATCH_PRODUCER_IMAGE": TEST_IMAGE},
    )
    process.start()
    yield process
    process.stop()
