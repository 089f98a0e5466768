"""The real CRD schemas and admission checks judge what we send, through server-side dry-runs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from stockwatch.testing.k8s import KubeAPIServer

KAFKA_TOPIC: dict[str, Any] = {
    "apiVersion": "kafka.strimzi.io/v1",
    "kind": "KafkaTopic",
    "metadata": {"name": "stock-prices", "labels": {"strimzi.io/cluster": "stockwatch"}},
    "spec": {"topicName": "stock_prices", "partitions": 3, "replicas": 1, "config": {"retention.ms": 604800000}},
}

PROMETHEUS_RULE: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "probe"},
    "spec": {"groups": [{"name": "probe", "rules": [{"alert": "Probe", "expr": "vector(1) > 2", "for": "5m"}]}]},
}

POD_MONITOR: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PodMonitor",
    "metadata": {"name": "probe"},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "producer"}},
        "podMetricsEndpoints": [{"port": "metrics", "interval": "15s"}],
    },
}

RESTRICTED_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "probe"},
    "spec": {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "image": "example.invalid/probe:1",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    },
}


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `base` with the dotted `path` set to `value` (list indexes as numbers)."""
    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def _dry_run(api: KubeAPIServer, namespace: str, doc: dict[str, Any]) -> tuple[int, str]:
    proc = api.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=yaml.safe_dump(doc), check=False)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("doc", [KAFKA_TOPIC, PROMETHEUS_RULE, POD_MONITOR, RESTRICTED_POD], ids=lambda d: d["kind"])
def test_valid_resources_are_accepted(kube_apiserver: KubeAPIServer, k8s_namespace: str, doc: dict[str, Any]) -> None:
    code, stderr = _dry_run(kube_apiserver, k8s_namespace, doc)
    assert (code, stderr) == (0, "")
    # a dry-run stores nothing
    kind = doc["kind"].lower()
    assert kube_apiserver.kubectl("get", kind, "-n", k8s_namespace, "-o", "name").stdout == ""


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_with(KAFKA_TOPIC, "spec.partitions", "three"), "spec.partitions"),
        (_with(KAFKA_TOPIC, "spec.partitions", 0), "spec.partitions"),
        (_with(KAFKA_TOPIC, "spec.replicas", 40000), "spec.replicas"),
        (_with(KAFKA_TOPIC, "spec.partitionCount", 3), "partitionCount"),
        (_with(PROMETHEUS_RULE, "spec.groups.0.rules.0", {"alert": "NoExpr"}), "expr"),
        (_with(POD_MONITOR, "spec.podMetricsEndpoints.0.interval", "fifteen seconds"), "interval"),
    ],
    ids=["topic-type", "topic-minimum", "topic-maximum", "topic-unknown-field", "rule-no-expr", "podmonitor-interval"],
)
def test_invalid_custom_resources_are_refused_by_the_real_schema(
    kube_apiserver: KubeAPIServer, k8s_namespace: str, doc: dict[str, Any], message: str
) -> None:
    code, stderr = _dry_run(kube_apiserver, k8s_namespace, doc)
    assert code != 0
    assert message in stderr


def test_pod_security_restricted_refuses_a_root_pod(kube_apiserver: KubeAPIServer, k8s_namespace: str) -> None:
    pod = _with(RESTRICTED_POD, "spec.securityContext", {})
    code, stderr = _dry_run(kube_apiserver, k8s_namespace, pod)
    assert code != 0
    assert 'violates PodSecurity "restricted' in stderr
