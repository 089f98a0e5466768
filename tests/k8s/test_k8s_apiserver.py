"""The test control plane itself: a real kube-apiserver that authenticates, authorizes with RBAC and serves the CRDs."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path

import httpx
import yaml

from stockwatch.testing.k8s import CHART_CRDS, REPO_ROOT, KubeAPIServer, k8s_tool


def _pinned_k8s_version() -> str:
    for line in (REPO_ROOT / "tools" / "k8s" / "go.mod").read_text().splitlines():
        fields = line.split()
        if fields[:1] == ["k8s.io/kubernetes"] and fields[1].startswith("v"):
            return fields[1]
    raise AssertionError("tools/k8s/go.mod does not require k8s.io/kubernetes")


def _crd_names(path: Path) -> list[str]:
    docs = yaml.safe_load_all(path.read_text())
    return [doc["metadata"]["name"] for doc in docs if doc and doc.get("kind") == "CustomResourceDefinition"]


def _resources(kube_apiserver: KubeAPIServer, group: str) -> set[str]:
    return set(kube_apiserver.kubectl("api-resources", f"--api-group={group}", "-o", "name").stdout.split())


def test_api_server_answers_with_the_pinned_version(kube_apiserver: KubeAPIServer) -> None:
    assert kube_apiserver.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    version = json.loads(kube_apiserver.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == _pinned_k8s_version()
    assert version["clientVersion"]["gitVersion"] == _pinned_k8s_version()
    groups = kube_apiserver.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}").stdout
    assert "system:masters" in json.loads(groups)


def test_the_ca_verifies_the_server_and_rbac_refuses_strangers(kube_apiserver: KubeAPIServer) -> None:
    context = ssl.create_default_context(cafile=str(kube_apiserver.ca_file))
    namespaces = f"{kube_apiserver.server}/api/v1/namespaces"
    assert httpx.get(f"{kube_apiserver.server}/version", verify=context).status_code == 200
    assert httpx.get(namespaces, verify=context).status_code == 403  # anonymous: authenticated as nobody, denied
    bad_token = {"Authorization": "Bearer not-the-token"}
    assert httpx.get(namespaces, verify=context, headers=bad_token).status_code == 401
    admin = {"Authorization": f"Bearer {kube_apiserver.token}"}
    assert httpx.get(namespaces, verify=context, headers=admin).status_code == 200


def test_strimzi_and_prometheus_operator_crds_are_served(kube_apiserver: KubeAPIServer) -> None:
    strimzi = {"kafkas.kafka.strimzi.io", "kafkatopics.kafka.strimzi.io", "kafkanodepools.kafka.strimzi.io"}
    assert strimzi <= _resources(kube_apiserver, "kafka.strimzi.io")
    monitoring = {"podmonitors.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"}
    assert monitoring <= _resources(kube_apiserver, "monitoring.coreos.com")
    for crd in ("kafkas.kafka.strimzi.io", "kafkatopics.kafka.strimzi.io"):
        path = "jsonpath={.spec.versions[?(@.served==true)].name}"
        assert "v1" in kube_apiserver.kubectl("get", "crd", crd, "-o", path).stdout.split()


def test_every_crd_of_our_chart_is_installed(kube_apiserver: KubeAPIServer) -> None:
    installed = set(kube_apiserver.kubectl("get", "crd", "-o", "name").stdout.split())
    expected = {name for path in sorted(CHART_CRDS.glob("*.yaml")) for name in _crd_names(path)}
    assert {f"customresourcedefinition.apiextensions.k8s.io/{name}" for name in expected} <= installed


def test_helm_installs_a_chart_into_the_server(
    kube_apiserver: KubeAPIServer, k8s_namespace: str, tmp_path: Path
) -> None:
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-probe"}}
    (chart / "templates" / "cm.yaml").write_text(
        yaml.safe_dump(configmap) + "data:\n  value: {{ .Values.v | quote }}\n"
    )
    helm = str(k8s_tool("helm"))
    env = kube_apiserver.env()
    install = [helm, "install", "p1", str(chart), "-n", k8s_namespace, "--set", "v=42", "--wait", "--timeout", "60s"]
    subprocess.run(install, capture_output=True, text=True, check=True, env=env)
    value = kube_apiserver.kubectl("get", "configmap", "p1-probe", "-n", k8s_namespace, "-o", "jsonpath={.data.value}")
    assert value.stdout == "42"
    listed = subprocess.run(
        [helm, "list", "-n", k8s_namespace, "-o", "json"], capture_output=True, text=True, check=True, env=env
    )
    assert [(r["name"], r["status"]) for r in json.loads(listed.stdout)] == [("p1", "deployed")]


def test_k8s_tools_script_is_idempotent_and_prints_the_bin_dir() -> None:
    script = REPO_ROOT / "scripts" / "k8s-tools.sh"
    for tool in ("helm", "kubectl", "etcd"):
        out = subprocess.run(["bash", str(script), tool], capture_output=True, text=True, check=True)
        bin_dir = Path(out.stdout.strip())
        assert (bin_dir / tool).is_file()
        assert out.stderr == ""  # cached: nothing built, nothing downloaded
    refused = subprocess.run(["bash", str(script), "kind"], capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "unknown tool 'kind'" in refused.stderr
