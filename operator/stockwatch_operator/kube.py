"""The few Kubernetes API calls the operator makes: server-side apply, list by label, delete, status patch.

Uses the official client's ApiClient directly with a small kind table, so any kind (Deployments,
Strimzi KafkaTopics, PodMonitors) goes through one code path without discovery round-trips.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import kubernetes
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from stockwatch_operator import FIELD_MANAGER, GROUP, KIND, PLURAL, VERSION

Obj = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    api_version: str
    kind: str
    plural: str

    def collection(self, namespace: str) -> str:
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{prefix}/namespaces/{namespace}/{self.plural}"


WATCHLIST = Kind(f"{GROUP}/{VERSION}", KIND, PLURAL)
CONFIGMAP = Kind("v1", "ConfigMap", "configmaps")
DEPLOYMENT = Kind("apps/v1", "Deployment", "deployments")
PODMONITOR = Kind("monitoring.coreos.com/v1", "PodMonitor", "podmonitors")
KAFKATOPIC = Kind("kafka.strimzi.io/v1", "KafkaTopic", "kafkatopics")
KINDS = {k.kind: k for k in (CONFIGMAP, DEPLOYMENT, PODMONITOR, KAFKATOPIC)}

_lock = threading.Lock()
_client: ApiClient | None = None


def client() -> ApiClient:
    """One shared ApiClient (in-cluster config, else $KUBECONFIG), with a pool sized for kopf's worker threads."""
    global _client
    with _lock:
        if _client is None:
            configuration = kubernetes.client.Configuration()
            try:
                kubernetes.config.load_incluster_config(client_configuration=configuration)
            except kubernetes.config.ConfigException:
                kubernetes.config.load_kube_config(client_configuration=configuration)
            configuration.connection_pool_maxsize = 32
            _client = ApiClient(configuration)
        return _client


def _call(
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Obj | None = None,
    patch_type: str = "application/apply-patch+yaml",
) -> Obj:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = patch_type if method == "PATCH" else "application/json"
    result = client().call_api(
        path,
        method,
        query_params=query or [],
        header_params=headers,
        body=body,
        response_types_map={200: "object", 201: "object", 202: "object"},
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
        _preload_content=True,
        _request_timeout=30,
    )
    return result if isinstance(result, dict) else {}


def apply(obj: Obj) -> Obj:
    """Server-side apply (force: this operator owns these fields). Creates the object when it is missing."""
    kind = KINDS[obj["kind"]]
    meta = obj["metadata"]
    path = f"{kind.collection(meta['namespace'])}/{meta['name']}"
    return _call("PATCH", path, query=[("fieldManager", FIELD_MANAGER), ("force", "true")], body=obj)


def list_children(kind: Kind, namespace: str, selector: str) -> list[Obj] | None:
    """Objects of `kind` matching the selector; None when the kind is not served (its CRD is not installed)."""
    try:
        result = _call("GET", kind.collection(namespace), query=[("labelSelector", selector)])
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    items = result.get("items", [])
    return items if isinstance(items, list) else []


def delete(kind: Kind, namespace: str, name: str) -> bool:
    """Delete (background propagation); False when it was already gone."""
    try:
        _call(
            "DELETE",
            f"{kind.collection(namespace)}/{name}",
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def watchlist_uid(namespace: str, name: str) -> str | None:
    """The uid of the live watchlist `name` (None when it is gone or being deleted), read with `list`."""
    result = _call("GET", WATCHLIST.collection(namespace), query=[("fieldSelector", f"metadata.name={name}")])
    for item in result.get("items") or []:
        meta = item.get("metadata", {})
        if not meta.get("deletionTimestamp"):
            return str(meta.get("uid"))
    return None


def patch_watchlist_status(namespace: str, name: str, status: Obj) -> None:
    """Merge `status` into the watchlist's status subresource."""
    path = f"{WATCHLIST.collection(namespace)}/{name}/status"
    _call("PATCH", path, body={"status": status}, patch_type="application/merge-patch+json")
