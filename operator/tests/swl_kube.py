"""Thin kubectl helpers over the real API server fixture, for the operator's integration tests and bench."""

from __future__ import annotations

import json
from typing import Any

import yaml

from stockwatch.testing.k8s import KubeAPIServer


class Kube:
    """kubectl as admin against one namespace; JSON in, dicts out."""

    def __init__(self, api: KubeAPIServer, namespace: str):
        self.api = api
        self.namespace = namespace

    def apply(self, manifest: dict[str, Any]) -> None:
        self.api.kubectl("apply", "-n", self.namespace, "-f", "-", input=yaml.safe_dump(manifest))

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        proc = self.api.kubectl("get", kind, name, "-n", self.namespace, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise RuntimeError(proc.stderr)
        loaded: dict[str, Any] = json.loads(proc.stdout)
        return loaded

    def items(self, kind: str, selector: str = "") -> list[dict[str, Any]]:
        args = ["get", kind, "-n", self.namespace, "-o", "json"] + (["-l", selector] if selector else [])
        loaded: list[dict[str, Any]] = json.loads(self.api.kubectl(*args).stdout)["items"]
        return loaded

    def names(self, kind: str, selector: str = "") -> list[str]:
        return sorted(obj["metadata"]["name"] for obj in self.items(kind, selector))

    def patch(self, kind: str, name: str, patch: dict[str, Any], *, subresource: str | None = None) -> None:
        args = ["patch", kind, name, "-n", self.namespace, "--type=merge", "-p", json.dumps(patch)]
        self.api.kubectl(*args, *([f"--subresource={subresource}"] if subresource else []))

    def delete(self, kind: str, name: str) -> None:
        self.api.kubectl("delete", kind, name, "-n", self.namespace, "--wait=false")

    def kubectl(self, *args: str) -> str:
        return self.api.kubectl(*args, "-n", self.namespace).stdout


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any] | None:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def container_env(deployment: dict[str, Any]) -> dict[str, Any]:
    """name -> value (or valueFrom) of the producer container's env."""
    env = deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in env}
