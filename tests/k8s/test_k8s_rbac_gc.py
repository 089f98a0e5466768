"""ServiceAccount kubeconfigs are held to their RBAC; the controller manager garbage-collects owned objects."""

from __future__ import annotations

import json

import yaml

from stockwatch.local.process import wait_for
from stockwatch.testing.k8s import KubeAPIServer, KubeControllerManager

ROLE = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-reader}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects:
  - {kind: ServiceAccount, name: reader}
"""


def test_service_account_kubeconfig_gets_exactly_its_rbac(kube_apiserver: KubeAPIServer, k8s_namespace: str) -> None:
    api, ns = kube_apiserver, k8s_namespace
    api.kubectl("create", "serviceaccount", "reader", "-n", ns)
    api.kubectl("apply", "-n", ns, "-f", "-", input=ROLE)
    api.kubectl("create", "configmap", "c1", "-n", ns, "--from-literal=k=v")
    as_sa = api.service_account_kubeconfig(ns, "reader")

    who = json.loads(api.kubectl("auth", "whoami", "-o", "json", kubeconfig=as_sa).stdout)
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{ns}:reader"
    assert api.kubectl("get", "configmap", "c1", "-o", "jsonpath={.data.k}", kubeconfig=as_sa).stdout == "v"
    for verb in (["delete", "configmap", "c1"], ["get", "secrets"], ["get", "configmaps", "-n", "default"]):
        denied = api.kubectl(*verb, kubeconfig=as_sa, check=False)
        assert denied.returncode != 0
        assert "Forbidden" in denied.stderr, denied.stderr


def test_owner_reference_cascade_deletion(
    kube_apiserver: KubeAPIServer, kube_controller_manager: KubeControllerManager, k8s_namespace: str
) -> None:
    api, ns = kube_apiserver, k8s_namespace
    api.kubectl("create", "configmap", "owner", "-n", ns)
    uid = api.kubectl("get", "configmap", "owner", "-n", ns, "-o", "jsonpath={.metadata.uid}").stdout
    child = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "child",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}],
        },
    }
    api.kubectl("create", "-n", ns, "-f", "-", input=yaml.safe_dump(child))
    api.kubectl("create", "configmap", "bystander", "-n", ns)

    api.kubectl("delete", "configmap", "owner", "-n", ns)

    def child_gone() -> bool:
        return api.kubectl("get", "configmap", "child", "-n", ns, "--ignore-not-found", "-o", "name").stdout == ""

    wait_for(child_gone, timeout=60, what="the garbage collector to delete the owned ConfigMap")
    assert api.kubectl("get", "configmap", "bystander", "-n", ns, "-o", "name").stdout.strip()
