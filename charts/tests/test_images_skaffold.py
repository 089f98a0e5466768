"""Dockerfiles and skaffold.yaml, checked without Docker: pinned bases, multi-stage, numeric non-root user, small
contexts, and a skaffold config whose images and helm value templates line up with charts/stockwatch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts.tests.chartlib import CHART, ROOT, Helm

IMAGES = ["pipeline", "operator", "dbt", "airflow"]
SKAFFOLD = yaml.safe_load((ROOT / "skaffold.yaml").read_text())


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def resolve_args(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), value)


@pytest.mark.parametrize("image", IMAGES)
def test_dockerfile_is_multistage_pinned_and_non_root(image: str) -> None:
    steps = instructions(ROOT / "images" / image / "Dockerfile")
    args: dict[str, str] = {}
    bases: list[str] = []
    for word, rest in steps:
        if word == "ARG" and "=" in rest:
            key, _, default = rest.partition("=")
            args.setdefault(key, resolve_args(default, args))  # a default may name an earlier ARG
        if word == "FROM":
            bases.append(resolve_args(rest.split()[0], args))
    for base in bases:
        # An exact version tag (x.y.z) or a digest: never `latest` nor a floating major.
        assert re.search(r"(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})$", base), f"{image}: unpinned base {base}"
    users = [rest for word, rest in steps if word == "USER"]
    assert users, f"{image}: no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), f"{image}: final USER must be numeric, got {users[-1]}"
    assert int(uid) > 0, f"{image}: final USER is root"
    if image != "airflow":  # the official Airflow image is a single-stage extension of apache/airflow
        assert len(bases) >= 2, f"{image}: not multi-stage"
        assert [w for w, _ in steps].count("ENTRYPOINT") == 1


@pytest.mark.parametrize("image", IMAGES)
def test_build_context_is_filtered_and_covers_every_copy(image: str) -> None:
    ignore = (ROOT / "images" / image / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in ignore if p.strip() and not p.startswith("#")]
    assert patterns[0] == "*", "the context should start from nothing and re-include what the image needs"
    included = [p[1:].rstrip("/") for p in patterns if p.startswith("!")]
    for word, rest in instructions(ROOT / "images" / image / "Dockerfile"):
        if word != "COPY" or "--from=" in rest:
            continue
        sources = [s for s in rest.split()[:-1] if not s.startswith("--")]
        for source in sources:
            source = source.rstrip("/")
            assert (ROOT / source).exists(), f"{image}: COPY {source} does not exist"
            assert any(source == inc or source.startswith(inc + "/") for inc in included), (
                f"{image}: COPY {source} is excluded by Dockerfile.dockerignore"
            )


def test_root_dockerignore_keeps_local_state_out() -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".scratch"} <= set(patterns)


def _artifact_var(image: str) -> str:
    return re.sub(r"[/.-]", "_", image)


def test_skaffold_builds_every_chart_image_from_its_dockerfile() -> None:
    assert SKAFFOLD["apiVersion"].startswith("skaffold/v4beta")
    assert SKAFFOLD["kind"] == "Config"
    artifacts = {a["image"]: a for a in SKAFFOLD["build"]["artifacts"]}
    assert set(artifacts) == {"stockwatch/pipeline", "stockwatch/operator", "stockwatch/dbt"}
    for name, artifact in artifacts.items():
        dockerfile = ROOT / artifact.get("context", ".") / artifact["docker"]["dockerfile"]
        assert dockerfile.is_file(), name


def test_skaffold_sets_every_image_of_the_chart() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    (release,) = SKAFFOLD["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"]) == CHART
    templates: dict[str, str] = release["setValueTemplates"]
    for artifact in SKAFFOLD["build"]["artifacts"]:
        key = artifact["image"].split("/")[-1]
        assert key in values["images"], key
        var = _artifact_var(artifact["image"])
        assert templates[f"images.{key}.repository"] == f"{{{{.IMAGE_REPO_{var}}}}}"
        assert templates[f"images.{key}.tag"] == f"{{{{.IMAGE_TAG_{var}}}}}"


def _apply_patches(config: dict[str, Any], patches: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-patch subset skaffold profiles use here (add/replace on object or list paths)."""
    for patch in patches:
        assert patch["op"] in {"add", "replace"}
        *parents, last = [int(p) if p.isdigit() else p for p in patch["path"].strip("/").split("/")]
        node: Any = config
        for part in parents:
            node = node[part]
        if patch["op"] == "replace":
            assert last in node or (isinstance(node, list) and isinstance(last, int) and last < len(node))
        node[last] = patch["value"]
    return config


def test_the_kind_profile_loads_images_into_kind_and_renders(helm: Helm, tmp_path: Path) -> None:
    (profile,) = [p for p in SKAFFOLD["profiles"] if p["name"] == "kind"]
    config = _apply_patches(yaml.safe_load((ROOT / "skaffold.yaml").read_text()), profile["patches"])
    assert config["build"]["local"]["push"] is False  # skaffold then loads the images into the kind cluster
    assert config["deploy"]["kubeContext"] == "kind-stockwatch"
    (release,) = config["deploy"]["helm"]["releases"]
    # What skaffold would pass to helm, with its image templates filled in.
    filled = {"REPO": "localrepo", "TAG": "abc123"}
    pattern = re.compile(r"{{.IMAGE_(REPO|TAG)_\w+}}")
    sets = [
        f"{key}={pattern.sub(lambda m: filled[m.group(1)], value)}"
        for key, value in {**release["setValueTemplates"], **release.get("setValues", {})}.items()
    ]
    manifests = helm.template([ROOT / f for f in release["valuesFiles"]], sets=sets)
    images = {
        c["image"] for d in manifests if d["kind"] == "Deployment" for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"localrepo:abc123"}
