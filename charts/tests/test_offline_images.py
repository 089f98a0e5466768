"""kube-prometheus-stack offline: the real chart (88.2.0, with its subcharts) rendered by the real helm with our
`kind` values (rendered by the real helmfile) plus deploy/values/offline/kube-prometheus-stack.yaml runs only
images that scripts/images/monitoring.sh builds, and each replaces the upstream image of the same name and version.

The chart comes from the local mirror ($STOCKWATCH_SHARED, default ../shared) or from `helm pull` into the cache;
where neither holds the chart with its dependency charts, these tests skip and say which paths they looked at.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts.tests.chartlib import KUBE_VERSION, ROOT, Helm, Manifest, dig, pod_specs
from charts.tests.test_helmfile import Helmfile, helmfile, release_values

__all__ = ["helmfile"]  # the real helmfile, as test_helmfile builds it (a fixture)

CHART_NAME = "kube-prometheus-stack"
CHART_VERSION = "88.2.0"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
OFFLINE_VALUES = ROOT / "deploy" / "values" / "offline" / "kube-prometheus-stack.yaml"
OFFLINE_PREFIX = "localhost/offline/"
RELEASE = "kube-prometheus-stack"
NAMESPACE = "monitoring"
# The operator's flags that name images it runs itself.
IMAGE_FLAGS = (
    "--prometheus-config-reloader=",
    "--prometheus-default-base-image=",
    "--alertmanager-default-base-image=",
)
# An image the operator runs only for Thanos (a sidecar or a ThanosRuler), which our values never ask for.
THANOS_FLAG = "--thanos-default-base-image="
# Upstream images with no offline build, each turned off by the offline values, and why.
NOT_BUILT = {
    "grafana/grafana": "Grafana (AGPL): grafana.enabled=false",
    "kiwigrid/k8s-sidecar": "Grafana's dashboard sidecar: grafana.enabled=false",
    "bats/bats": "Grafana's helm test: grafana.enabled=false",
    "jkroepke/kube-webhook-certgen": "not on the Go module proxy: prometheusOperator.admissionWebhooks.enabled=false",
}


def shared_dir() -> Path:
    return Path(os.environ.get("STOCKWATCH_SHARED", ROOT.parent / "shared"))


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stockwatch"
    return Path(os.environ.get("STOCKWATCH_CACHE", default))


def missing_dependencies(chart: Path) -> list[str]:
    """The dependency charts Chart.yaml lists that chart/charts/ does not hold (helm refuses to render then)."""
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    present = {p.name for p in (chart / "charts").iterdir()} if (chart / "charts").is_dir() else set()
    return [
        dep["name"]
        for dep in meta.get("dependencies") or []
        if dep["name"] not in present and not any(n.startswith(f"{dep['name']}-") for n in present)
    ]


@pytest.fixture(scope="module")
def chart() -> Path:
    """The real chart with its dependency charts: the mirror's copy, else the one `helm pull --untar` left."""
    candidates = [
        shared_dir() / "charts" / f"{CHART_NAME}-{CHART_VERSION}",
        cache_dir() / "charts" / f"{CHART_NAME}-{CHART_VERSION}" / CHART_NAME,
    ]
    looked: list[str] = []
    for path in candidates:
        if not (path / "Chart.yaml").is_file():
            looked.append(f"{path}: no chart")
            continue
        meta = yaml.safe_load((path / "Chart.yaml").read_text())
        assert meta["version"] == CHART_VERSION, f"{path} is {CHART_NAME} {meta['version']}, not {CHART_VERSION}"
        missing = missing_dependencies(path)
        if not missing:
            return path
        looked.append(f"{path}: dependency charts missing from charts/: {', '.join(missing)}")
    pytest.skip(
        f"no renderable {CHART_NAME} {CHART_VERSION}: "
        + "; ".join(looked)
        + f". Get it with `helm pull {CHART_NAME} --repo {CHART_REPO} --version {CHART_VERSION} --untar "
        f"--untardir {candidates[1].parent}`, or complete the mirror."
    )


@pytest.fixture(scope="module")
def our_values(helmfile: Helmfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/values/kube-prometheus-stack.yaml.gotmpl as helmfile renders it for the `kind` environment."""
    values = release_values(helmfile.state("kind")["releases"][RELEASE])
    path = tmp_path_factory.mktemp("kps") / "kind-values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def render(helm: Helm, chart: Path, *values: Path) -> list[Manifest]:
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for path in values:
        args += ["--values", str(path)]
    return [doc for doc in yaml.safe_load_all(helm.run(*args)) if doc]


@pytest.fixture(scope="module")
def offline(helm: Helm, chart: Path, our_values: Path) -> list[Manifest]:
    return render(helm, chart, our_values, OFFLINE_VALUES)


@pytest.fixture(scope="module")
def built() -> set[str]:
    """The images scripts/images/monitoring.sh provides (its `list`: no build)."""
    script = ROOT / "scripts" / "images" / "monitoring.sh"
    proc = subprocess.run(["bash", str(script), "list"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def containers(spec: Manifest) -> Iterator[Manifest]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def images(manifests: list[Manifest]) -> dict[str, set[str]]:
    """Every image the release would run -> where: pod containers (hooks and tests included), the images of the
    operator's Prometheus/Alertmanager/ThanosRuler resources and their extra containers, and the operator's
    image flags. The Thanos flag is left out (see test_thanos_is_never_run)."""
    found: dict[str, set[str]] = {}
    for where, spec in pod_specs(manifests):
        for container in containers(spec):
            found.setdefault(container["image"], set()).add(f"{where}/{container['name']}")
            for arg in [*(container.get("args") or []), *(container.get("command") or [])]:
                for flag in IMAGE_FLAGS:
                    if arg.startswith(flag):
                        found.setdefault(arg.removeprefix(flag), set()).add(f"{where} {flag}")
    for doc in manifests:
        if doc["kind"] in ("Prometheus", "Alertmanager", "ThanosRuler"):
            where = f"{doc['kind']}/{doc['metadata']['name']}"
            if "image" in doc["spec"]:
                found.setdefault(doc["spec"]["image"], set()).add(where)
            for container in containers(doc["spec"]):
                if "image" in container:
                    found.setdefault(container["image"], set()).add(f"{where}/{container['name']}")
    return found


def repository_and_tag(image: str) -> tuple[str, str]:
    """('prometheus/prometheus', 'v3.13.2') of quay.io/prometheus/prometheus:v3.13.2-distroless; a default base
    image flag has no tag (the operator adds the version): ('prometheus/prometheus', '')."""
    name, _, tag = image.rpartition(":") if re.search(r":[\w.-]+$", image) else (image, "", "")
    repository = name.removeprefix(OFFLINE_PREFIX) if name.startswith(OFFLINE_PREFIX) else name.split("/", 1)[1]
    return repository, tag.removesuffix("-distroless")


def test_the_offline_release_runs_only_images_built_here(offline: list[Manifest], built: set[str]) -> None:
    found = images(offline)
    foreign = {image: sorted(where) for image, where in found.items() if image not in built}
    # The default base images carry no tag: the operator appends the version a resource asks for.
    foreign = {
        image: where
        for image, where in foreign.items()
        if not (image.startswith(OFFLINE_PREFIX) and any(b.startswith(f"{image}:") for b in built))
    }
    assert foreign == {}, "images not built by scripts/images/monitoring.sh:\n" + yaml.safe_dump(foreign)
    # and nothing is built that the release does not run
    assert built <= set(found), sorted(built - set(found))


def test_our_kind_values_render_without_the_offline_values(helm: Helm, chart: Path, our_values: Path) -> None:
    """The `kind` environment itself (`make deploy` with registry images) renders the chart."""
    render(helm, chart, our_values)


def test_each_offline_image_stands_for_the_upstream_image_of_the_same_name_and_version(
    helm: Helm, chart: Path, our_values: Path, built: set[str]
) -> None:
    upstream = images(render(helm, chart, our_values))
    ours = {repository_and_tag(image) for image in built}
    unmatched = {}
    for image, where in upstream.items():
        repo, tag = repository_and_tag(image)
        if (repo, tag) in ours or (tag == "" and any(r == repo for r, _ in ours)):
            continue
        if repo not in NOT_BUILT:
            unmatched[image] = sorted(where)
    assert unmatched == {}, "upstream images with neither an offline build nor a reason:\n" + yaml.safe_dump(unmatched)
    # every offline image replaces one the chart runs with our values (same repository path and version)
    upstream_names = {repository_and_tag(image) for image in upstream}
    assert ours <= upstream_names, sorted(ours - upstream_names)


def test_the_offline_release_has_no_cert_job_webhooks_or_grafana(offline: list[Manifest]) -> None:
    kinds = {doc["kind"] for doc in offline}
    assert not kinds & {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "Job"}, kinds
    hooks = [d["metadata"]["name"] for d in offline if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
    assert hooks == []
    assert not [d for d in offline if "grafana" in d["metadata"]["name"] and d["kind"] != "ConfigMap"]
    # No cert Secret is made, so nothing may mount one: the operator serves plain HTTP.
    (operator,) = [spec for where, spec in pod_specs(offline) if where == f"Deployment/{RELEASE}-operator"]
    assert [v for v in operator.get("volumes") or [] if "secret" in v] == []
    assert "--web.enable-tls=false" in operator["containers"][0]["args"]


def test_offline_images_are_never_pulled(offline: list[Manifest]) -> None:
    pulled = [
        f"{where}/{c['name']}"
        for where, spec in pod_specs(offline)
        for c in containers(spec)
        if c.get("imagePullPolicy") != "Never"
    ]
    pulled += [
        f"{d['kind']}/{d['metadata']['name']}"
        for d in offline
        if d["kind"] in ("Prometheus", "Alertmanager") and d["spec"].get("imagePullPolicy") != "Never"
    ]
    assert pulled == []


def test_the_operator_reads_the_prometheus_version_from_the_offline_tag(offline: list[Manifest]) -> None:
    (prometheus,) = [d for d in offline if d["kind"] == "Prometheus"]
    assert prometheus["spec"]["image"].endswith(":" + prometheus["spec"]["version"])


def test_thanos_is_never_run(offline: list[Manifest]) -> None:
    """The operator's Thanos image flag stays upstream's: no Prometheus asks for a Thanos sidecar, no ThanosRuler."""
    assert [d for d in offline if d["kind"] == "ThanosRuler"] == []
    for doc in offline:
        if doc["kind"] == "Prometheus":
            assert not dig(doc, ("spec",)).get("thanos"), doc["metadata"]["name"]
    args: list[Any] = [a for _, spec in pod_specs(offline) for c in containers(spec) for a in c.get("args") or []]
    assert any(str(a).startswith(THANOS_FLAG) for a in args)
