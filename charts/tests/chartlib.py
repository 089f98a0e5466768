"""Render charts/stockwatch with the real helm and inspect what it renders (shared by the chart tests)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "stockwatch"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
# The Kubernetes version the chart is rendered and validated for (the test API server's version).
KUBE_VERSION = "1.35.4"
RELEASE = "sw"
NAMESPACE = "stockwatch"

Manifest = dict[str, Any]

# Kinds that run pods, and where their pod spec sits.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


class HelmError(RuntimeError):
    """helm exited non-zero; the message carries its stderr."""


def tool_bin(tool: str) -> Path:
    """A Kubernetes tool built by scripts/k8s-tools.sh (built on first use, cached afterwards). Fails loudly."""
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "k8s-tools.sh"), tool], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/k8s-tools.sh {tool} failed:\n{proc.stderr[-4000:]}")
    path = Path(proc.stdout.strip().splitlines()[-1]) / tool
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"scripts/k8s-tools.sh {tool} printed {path.parent}, which holds no {tool}")
    return path


@dataclass(frozen=True)
class Helm:
    """The real helm binary, run against charts/stockwatch."""

    binary: Path
    home: Path

    def run(self, *args: str) -> str:
        env = {
            **os.environ,
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        proc = subprocess.run([str(self.binary), *args], capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise HelmError(f"helm {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        return proc.stdout

    def lint(self, values: Sequence[Path] = (), sets: Sequence[str] = ()) -> str:
        return self.run("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, *_value_args(values, sets))

    def template(
        self, values: Sequence[Path] = (), sets: Sequence[str] = (), namespace: str = NAMESPACE
    ) -> list[Manifest]:
        out = self.run(
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            namespace,
            "--kube-version",
            KUBE_VERSION,
            *_value_args(values, sets),
        )
        return [doc for doc in yaml.safe_load_all(out) if doc]


def _value_args(values: Sequence[Path], sets: Sequence[str]) -> list[str]:
    args: list[str] = []
    for path in values:
        args += ["--values", str(path)]
    for item in sets:
        args += ["--set", item]
    return args


def dig(obj: Manifest, path: Sequence[str]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def pod_specs(manifests: Sequence[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """(kind/name, pod spec) of every object that runs pods."""
    for doc in manifests:
        path = POD_SPEC_PATHS.get(doc["kind"])
        if path is not None:
            yield f"{doc['kind']}/{doc['metadata']['name']}", dig(doc, path)


def restricted_violations(pod_spec: Manifest) -> list[str]:
    """What in a pod spec breaks the restricted Pod Security Standard (v1.35), as readable messages.

    The API server's PodSecurity admission judges the same in the server-side tests; this check names the field.
    """
    problems: list[str] = []
    pod_sc = pod_spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            problems.append(f"{field} is set")
    for volume in pod_spec.get("volumes") or []:
        allowed = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected"}
        allowed |= {"secret", "name"}
        if set(volume) - allowed:
            problems.append(f"volume {volume['name']} uses a restricted type {sorted(set(volume) - allowed)}")
    containers = [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]
    for container in containers:
        name = container["name"]
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities.drop must contain ALL")
        if set((sc.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot must be true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{name}: runAsUser is 0 (root)")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile.type must be RuntimeDefault or Localhost")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{name}: hostPort {port['hostPort']}")
    return problems


def kubernetes_validate_strict(doc: Manifest) -> None:
    """Validate a core object against the Kubernetes OpenAPI schema of KUBE_VERSION, unknown fields refused."""
    kubernetes_validate.validate(doc, ".".join(KUBE_VERSION.split(".")[:2]) + ".0", strict=True)
