"""airflow/pod_template.yaml, rendered by the real helm the way the official Airflow chart renders its
`podTemplate` value (`tpl`), is a valid Pod that the KubernetesExecutor loads, under the restricted PSS."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "airflow" / "pod_template.yaml"
IMAGE = {"repository": "registry.example/stockwatch/airflow", "tag": "0.1.0"}


@pytest.fixture(scope="module")
def helm() -> Path:
    """helm from the project's cache (scripts/k8s-tools.sh builds or fetches it once)."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "k8s-tools.sh"), "helm"], capture_output=True, text=True)
    assert out.returncode == 0, f"scripts/k8s-tools.sh helm failed:\n{out.stderr}"
    return Path(out.stdout.strip().splitlines()[-1]) / "helm"


@pytest.fixture(scope="module")
def rendered(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tpl .Values.podTemplate .` in a chart of release `airflow`, as the Airflow chart's config ConfigMap does."""
    chart = tmp_path_factory.mktemp("chart")
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: podtemplate-probe\nversion: 0.1.0\n")
    values = {"images": {"airflow": IMAGE}, "podTemplate": TEMPLATE.read_text()}
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    (chart / "templates" / "pod.yaml").write_text("{{ tpl .Values.podTemplate . }}\n")
    out = subprocess.run([str(helm), "template", "airflow", str(chart)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    path = chart / "pod_template_file.yaml"
    path.write_text(out.stdout)
    return path


@pytest.fixture(scope="module")
def pod(rendered: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(rendered.read_text())
    return loaded


def test_plain_yaml_before_rendering() -> None:
    assert yaml.safe_load(TEMPLATE.read_text())["kind"] == "Pod"


def test_rendered_by_helm(pod: dict[str, Any]) -> None:
    assert pod["spec"]["containers"][0]["image"] == "registry.example/stockwatch/airflow:0.1.0"
    config = next(volume for volume in pod["spec"]["volumes"] if volume["name"] == "config")
    assert config["configMap"]["name"] == "airflow-config", "the chart's airflow.cfg ConfigMap of release `airflow`"
    assert pod["metadata"]["labels"]["app.kubernetes.io/instance"] == "airflow"


def test_valid_kubernetes_pod(pod: dict[str, Any]) -> None:
    kubernetes_validate.validate(pod, kubernetes_validate.latest_version(), strict=True)


def test_the_executor_loads_it(rendered: Path) -> None:
    """The cncf-kubernetes provider reads `pod_template_file` with this function; `base` is the task container."""
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    model = PodGenerator.deserialize_model_file(str(rendered))
    assert [container.name for container in model.spec.containers] == ["base"]
    assert model.spec.containers[0].resources.requests["memory"] == "512Mi"


def test_restricted_pod_security(pod: dict[str, Any]) -> None:
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert key not in spec
    for volume in spec["volumes"]:
        assert "hostPath" not in volume
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert "add" not in context["capabilities"]
        assert context.get("privileged", False) is False
        assert context["runAsNonRoot"] is True
        assert {"requests", "limits"} <= set(container["resources"])


def test_secrets_by_reference_only(pod: dict[str, Any]) -> None:
    container = pod["spec"]["containers"][0]
    for env in container["env"]:
        if env["name"].startswith("SNOWFLAKE_"):
            assert "value" not in env, f"{env['name']} must come from a Secret"
            assert env["valueFrom"]["secretKeyRef"]["name"] == "stockwatch-snowflake"


def test_labels(pod: dict[str, Any]) -> None:
    labels = pod["metadata"]["labels"]
    for key in ("name", "instance", "component", "part-of", "managed-by"):
        assert f"app.kubernetes.io/{key}" in labels
    assert labels["app.kubernetes.io/part-of"] == "stockwatch"
