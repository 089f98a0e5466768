"""airflow/pod_template.yaml is a valid Pod, loads in the KubernetesExecutor, and meets the restricted PSS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "pod_template.yaml"


@pytest.fixture(scope="module")
def pod() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return loaded


def test_valid_kubernetes_pod(pod: dict[str, Any]) -> None:
    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)


def test_the_executor_loads_it() -> None:
    """The cncf-kubernetes provider reads `pod_template_file` with this function; `base` is the task container."""
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    model = PodGenerator.deserialize_model_file(str(TEMPLATE))
    assert [container.name for container in model.spec.containers] == ["base"]
    assert model.spec.containers[0].resources.requests["memory"] == "512Mi"


def test_restricted_pod_security(pod: dict[str, Any]) -> None:
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert "hostNetwork" not in spec
    assert "hostPID" not in spec
    for volume in spec.get("volumes", []):
        assert "hostPath" not in volume
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert "add" not in context["capabilities"]
        assert context.get("privileged", False) is False
        assert context["runAsNonRoot"] is True
        assert {"requests", "limits"} <= set(container["resources"])


def test_labels(pod: dict[str, Any]) -> None:
    labels = pod["metadata"]["labels"]
    for key in ("name", "instance", "component", "part-of", "managed-by"):
        assert f"app.kubernetes.io/{key}" in labels
    assert labels["app.kubernetes.io/part-of"] == "stockwatch"
