"""helmfile.yaml, rendered by the real helmfile (built from the Go module proxy): pinned releases, ordering,
per-environment values, secrets only from the environment, and our releases accepted by the real API server.

Remote charts cannot be downloaded here: the checks that need a chart's content cover our own charts
(`helmfile template -l tier=stockwatch`); the remote releases are checked as rendered state and values.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts.tests.chartlib import (
    KUBE_VERSION,
    ROOT,
    Helm,
    Manifest,
    kubernetes_validate_strict,
    pod_specs,
    restricted_violations,
)
from stockwatch.testing.k8s import KubeAPIServer

PINNED = {
    "strimzi-kafka-operator": ("strimzi/strimzi-kafka-operator", "1.2.0"),
    "airflow": ("apache-airflow/airflow", "1.22.0"),
    "kube-prometheus-stack": ("prometheus-community/kube-prometheus-stack", "88.2.0"),
    "stockwatch-crds": ("./charts/stockwatch-crds", None),
    "stockwatch": ("./charts/stockwatch", None),
}
# The OCI chart (Strimzi) is pulled even to render state: leave it out offline; its values file is plain YAML.
OFFLINE = "name!=strimzi-kafka-operator"
PRODUCTION_ENV = {
    "STOCKWATCH_REGISTRY": "registry.example.com/acme",
    "STOCKWATCH_VERSION": "1.2.3",
    "GRAFANA_ADMIN_PASSWORD": "not-a-real-password",
}


class Helmfile:
    def __init__(self, binary: Path, helm: Helm):
        self.binary = binary
        self.helm = helm

    def run(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
        full_env = {
            **base,
            **(env or {}),
            "HELM_CACHE_HOME": str(self.helm.home / "cache"),
            "HELM_CONFIG_HOME": str(self.helm.home / "config"),
            "HELM_DATA_HOME": str(self.helm.home / "data"),
        }
        argv = [str(self.binary), "--no-color", "--helm-binary", str(self.helm.binary), *args]
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=full_env, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"helmfile {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return proc

    def state(self, environment: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        out = self.run("-e", environment, "build", "--embed-values", "-l", OFFLINE, env=env).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        releases = [r for d in docs for r in d.get("releases") or []]
        return {"releases": {r["name"]: r for r in releases}}

    def template(self, environment: str, env: dict[str, str] | None = None) -> list[Manifest]:
        out = self.run(
            "-e",
            environment,
            "template",
            "-l",
            "tier=stockwatch",
            "--skip-deps",
            "--kube-version",
            KUBE_VERSION,
            env=env,
        ).stdout
        return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="session")
def helmfile(helm: Helm) -> Helmfile:
    proc = subprocess.run(["bash", str(ROOT / "tools" / "helmfile" / "build.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"tools/helmfile/build.sh failed:\n{proc.stderr[-4000:]}")
    return Helmfile(Path(proc.stdout.strip().splitlines()[-1]), helm)


def release_values(release: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in release.get("values") or []:
        if isinstance(item, dict):
            merged.update(item)
    return merged


@pytest.mark.parametrize("environment", ["kind", "production"])
def test_every_release_is_listed_and_pinned(helmfile: Helmfile, environment: str) -> None:
    out = helmfile.run("-e", environment, "list", "--output", "json", env=PRODUCTION_ENV).stdout
    listed = {r["name"]: r for r in yaml.safe_load(out)}
    assert set(listed) == set(PINNED)
    for name, (chart, version) in PINNED.items():
        assert listed[name]["chart"] == chart
        if version is not None:
            assert listed[name]["version"] == version, name


def test_releases_wait_for_what_they_need(helmfile: Helmfile) -> None:
    state = yaml.safe_load((ROOT / "helmfile.yaml").read_text().split("\n---\n", 1)[1])
    needs = {r["name"]: set(r.get("needs") or []) for r in state["releases"]}
    assert needs["stockwatch"] == {
        "strimzi/strimzi-kafka-operator",
        "monitoring/kube-prometheus-stack",
        "stockwatch/stockwatch-crds",
    }
    assert "strimzi/strimzi-kafka-operator" in needs["airflow"]


def test_kind_environment_values(helmfile: Helmfile) -> None:
    releases = helmfile.state("kind")["releases"]
    airflow = release_values(releases["airflow"])
    assert airflow["executor"] == "KubernetesExecutor"
    assert airflow["postgresql"]["enabled"] is True
    assert airflow["images"]["airflow"]["repository"] == "stockwatch/airflow"
    assert yaml.safe_load(airflow["podTemplate"]) == yaml.safe_load(
        (ROOT / "airflow" / "pod_template.yaml").read_text()
    )
    grafana = release_values(releases["kube-prometheus-stack"])["grafana"]
    assert grafana["enabled"] is True
    assert grafana["sidecar"]["dashboards"]["enabled"] is True
    stockwatch = release_values(releases["stockwatch"])
    assert stockwatch["monitoring"]["release"] == "kube-prometheus-stack"
    assert stockwatch["images"]["pipeline"]["pullPolicy"] == "Never"


def test_kind_without_an_account_uses_the_in_cluster_warehouse(helmfile: Helmfile) -> None:
    no_account = {k: v for k, v in os.environ.items() if not k.startswith("SNOWFLAKE_")}
    releases = helmfile.state("kind", {**no_account, "SNOWFLAKE_ACCOUNT": ""})["releases"]
    assert release_values(releases["stockwatch"])["localWarehouse"]["enabled"] is True
    airflow_env = yaml.safe_load(
        release_values(releases["airflow"])["extraConfigMaps"]["stockwatch-airflow-env"]["data"]
    )
    manifests = helmfile.template("kind", {"SNOWFLAKE_ACCOUNT": ""})
    (service,) = [d for d in manifests if d["kind"] == "Service" and d["metadata"]["name"].endswith("-warehouse")]
    namespace = releases["stockwatch"]["namespace"]
    assert airflow_env["SNOWFLAKE_HOST"] == f"{service['metadata']['name']}.{namespace}.svc"
    assert airflow_env["SNOWFLAKE_PORT"] == str(service["spec"]["ports"][0]["port"])
    assert airflow_env["SNOWFLAKE_PROTOCOL"] == "http"

    with_account = helmfile.state("kind", {"SNOWFLAKE_ACCOUNT": "xy12345"})["releases"]
    assert release_values(with_account["stockwatch"])["localWarehouse"]["enabled"] is False
    airflow_data = release_values(with_account["airflow"])["extraConfigMaps"]["stockwatch-airflow-env"]["data"]
    assert "SNOWFLAKE_HOST" not in yaml.safe_load(airflow_data)
    production = helmfile.state("production", PRODUCTION_ENV)["releases"]
    assert release_values(production["stockwatch"])["localWarehouse"]["enabled"] is False


def test_production_requires_its_secrets_from_the_environment(helmfile: Helmfile) -> None:
    for missing in PRODUCTION_ENV:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
        proc = helmfile.run("-e", "production", "build", "--embed-values", "-l", OFFLINE, env=env, check=False)
        assert proc.returncode != 0
        assert missing in proc.stderr + proc.stdout


def test_production_environment_values(helmfile: Helmfile) -> None:
    releases = helmfile.state("production", PRODUCTION_ENV)["releases"]
    airflow = release_values(releases["airflow"])
    assert airflow["postgresql"]["enabled"] is False
    assert airflow["data"]["metadataSecretName"] == "airflow-metadata"
    assert airflow["images"]["airflow"] == {
        "repository": "registry.example.com/acme/stockwatch/airflow",
        "tag": "1.2.3",
        "pullPolicy": "IfNotPresent",
    }
    stockwatch = release_values(releases["stockwatch"])
    assert stockwatch["kafka"]["nodePool"]["replicas"] == 3
    assert stockwatch["snowflake"]["auth"] == "keypair"
    # Committed files hold no secret: the only secret value here is the one this test put in the environment.
    for path in [ROOT / "helmfile.yaml", *sorted((ROOT / "deploy").rglob("*.y*ml*"))]:
        assert PRODUCTION_ENV["GRAFANA_ADMIN_PASSWORD"] not in path.read_text()


def null_keys(values: Any, path: str = "") -> list[str]:
    """Every key whose value is null: helm reads a null as "delete the chart's default", not "leave it"."""
    if isinstance(values, dict):
        return [hit for key, value in values.items() for hit in null_keys(value, f"{path}.{key}")]
    if isinstance(values, list):
        return [hit for i, value in enumerate(values) for hit in null_keys(value, f"{path}[{i}]")]
    return [path] if values is None else []


@pytest.mark.parametrize("environment", ["kind", "production"])
def test_no_release_value_renders_null(helmfile: Helmfile, environment: str) -> None:
    # Regression: with no ALERT_* variables, kube-prometheus-stack got `alertmanager.alertmanagerSpec: null`,
    # which deleted the chart's defaults and made it fail to render ("nil pointer evaluating ...portName").
    env = PRODUCTION_ENV if environment == "production" else None
    releases = helmfile.state(environment, env)["releases"]
    nulls = {name: null_keys(release_values(release)) for name, release in releases.items()}
    assert {name: keys for name, keys in nulls.items() if keys} == {}


def test_strimzi_values_watch_only_stockwatch_with_restricted_pods() -> None:
    values = yaml.safe_load((ROOT / "deploy" / "values" / "strimzi.yaml").read_text())
    assert values["watchNamespaces"] == ["stockwatch"]
    assert values["watchAnyNamespace"] is False
    assert {"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"} in values["extraEnvs"]


@pytest.mark.parametrize("environment", ["kind", "production"])
def test_our_releases_render_and_pass_a_server_side_dry_run(
    helmfile: Helmfile, kube_apiserver: KubeAPIServer, k8s_namespace: str, environment: str
) -> None:
    manifests = [
        d for d in helmfile.template(environment, PRODUCTION_ENV) if d["kind"] != "CustomResourceDefinition"
    ]  # the CRDs are installed in the test API server already
    for doc in manifests:
        if "namespace" in doc["metadata"]:
            doc["metadata"]["namespace"] = k8s_namespace
    for name, spec in pod_specs(manifests):
        assert restricted_violations(spec) == [], name
    proc = kube_apiserver.kubectl(
        "apply", "--server-side", "--dry-run=server", "-n", k8s_namespace, "-f", "-",
        input=yaml.safe_dump_all(manifests), check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("(server dry run)") == len(manifests)


def render_like_tpl(text: str, release: str, values: dict[str, Any]) -> str:
    """What the Airflow chart's `tpl` makes of the pod template: `.Release.Name` and `.Values.<path>` lookups."""

    def lookup(match: re.Match[str]) -> str:
        node: Any = values
        for key in match.group(1).split("."):
            node = node[key]
        return str(node)

    text = text.replace("{{ .Release.Name }}", release)
    text = re.sub(r"{{ \.Values\.([\w.]+) }}", lookup, text)
    assert "{{" not in text.replace("`{{ .Release.Name }}`", ""), "a template expression the test cannot render"
    return text


def test_the_airflow_worker_pod_template_is_a_valid_restricted_pod(
    helmfile: Helmfile, kube_apiserver: KubeAPIServer, k8s_namespace: str
) -> None:
    airflow = release_values(helmfile.state("kind")["releases"]["airflow"])
    text = render_like_tpl((ROOT / "airflow" / "pod_template.yaml").read_text(), "airflow", airflow)
    pod = yaml.safe_load(text)
    kubernetes_validate_strict(pod)
    assert restricted_violations(pod["spec"]) == []
    assert pod["spec"]["containers"][0]["image"] == "stockwatch/airflow:dev"
    proc = kube_apiserver.kubectl(
        "apply", "--dry-run=server", "-n", k8s_namespace, "-f", "-", input=yaml.safe_dump(pod), check=False
    )
    assert proc.returncode == 0, proc.stderr
