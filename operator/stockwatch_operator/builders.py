"""Pure builders: a Watchlist (+ settings) -> the Kubernetes objects that run it. No API calls here.

Every object carries the standard labels and a controller owner reference to its watchlist, so
`kubectl delete swl x` lets the garbage collector remove the producers, the ConfigMap, the
PodMonitor and the KafkaTopic.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from stockwatch_operator import FIELD_MANAGER, GROUP, KIND, VERSION
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings

Obj = dict[str, Any]

WATCHLIST_LABEL = f"{GROUP}/watchlist"
SHARD_LABEL = f"{GROUP}/shard"
# On producer pods scraped by their watchlist's own PodMonitor: the chart's PodMonitor for all producers
# skips them (charts/stockwatch/templates/monitoring/podmonitors.yaml), so no producer is scraped twice.
SCRAPED_BY_LABEL = f"{GROUP}/scraped-by"
# The `job` label every producer series carries, whichever PodMonitor scraped it (alerts and dashboards use it).
PRODUCER_JOB = "stockwatch-producer"
CONFIG_HASH_ANNOTATION = f"{GROUP}/config-hash"
SYMBOLS_ANNOTATION = f"{GROUP}/symbols"
PRODUCER_NAME = "stockwatch-producer"
CONTAINER_NAME = "producer"
DEFAULT_REQUESTS: dict[str, str | int] = {"cpu": "50m", "memory": "96Mi"}
DEFAULT_LIMITS: dict[str, str | int] = {"memory": "256Mi"}


def shard_symbols(symbols: list[str], max_per_shard: int) -> list[list[str]]:
    """Split into ceil(n / max) contiguous shards whose sizes differ by at most one, keeping the user's order."""
    if max_per_shard < 1:
        raise ValueError("max_per_shard must be at least 1")
    if not symbols:
        return []
    count = math.ceil(len(symbols) / max_per_shard)
    base, extra = divmod(len(symbols), count)
    shards: list[list[str]] = []
    start = 0
    for index in range(count):
        size = base + (1 if index < extra else 0)
        shards.append(symbols[start : start + size])
        start += size
    return shards


def labels(watchlist: Watchlist, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": PRODUCER_NAME,
        "app.kubernetes.io/instance": watchlist.name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "stockwatch",
        "app.kubernetes.io/managed-by": FIELD_MANAGER,
        WATCHLIST_LABEL: watchlist.name,
    }


def child_selector(watchlist: Watchlist) -> str:
    """A label selector matching every object this operator made for the watchlist."""
    return f"{WATCHLIST_LABEL}={watchlist.name},app.kubernetes.io/managed-by={FIELD_MANAGER}"


def owner_reference(watchlist: Watchlist) -> Obj:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": watchlist.name,
        "uid": watchlist.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(watchlist: Watchlist, name: str, component: str) -> Obj:
    return {
        "name": name,
        "namespace": watchlist.namespace,
        "labels": labels(watchlist, component),
        "ownerReferences": [owner_reference(watchlist)],
    }


def configmap_name(watchlist: Watchlist) -> str:
    return f"{watchlist.name}-producer"


def deployment_name(watchlist: Watchlist, shard: int) -> str:
    return f"{watchlist.name}-producer-{shard}"


def topic_for(watchlist: Watchlist, settings: OperatorSettings) -> str:
    return watchlist.spec.topic.name if watchlist.spec.topic else settings.kafka_topic


def calls_per_minute(watchlist: Watchlist) -> int:
    """finnhub-rest API calls per minute: every symbol once per poll interval (0 for the other sources)."""
    if watchlist.spec.source != "finnhub-rest":
        return 0
    return math.ceil(len(watchlist.spec.symbols) * 60 / watchlist.spec.poll_interval_seconds)


def build_configmap(watchlist: Watchlist, settings: OperatorSettings) -> Obj:
    """The environment every shard shares (the producer contract's variables, no secrets)."""
    spec = watchlist.spec
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(watchlist, configmap_name(watchlist), "producer-config"),
        "data": {
            "STOCKWATCH_SOURCE": spec.source,
            "STOCKWATCH_POLL_INTERVAL_SECONDS": str(spec.poll_interval_seconds),
            "STOCKWATCH_METRICS_PORT": str(settings.producer_metrics_port),
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "KAFKA_TOPIC": topic_for(watchlist, settings),
            "KAFKA_DLQ_TOPIC": settings.kafka_dlq_topic,
        },
    }


def config_hash(configmap: Obj, shard_symbols_: list[str], secret: tuple[str, str] | None) -> str:
    """Changes whenever a pod would see different configuration, so the Deployment rolls."""
    payload = json.dumps([configmap["data"], shard_symbols_, secret], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _quantities(values: dict[str, str | int]) -> dict[str, str]:
    """Quantities as the API server returns them (`cpu: 1` comes back as "1"), so drift checks compare equal."""
    return {name: str(value) for name, value in values.items()}


def desired_replicas(watchlist: Watchlist, within_budget: bool) -> int:
    return 0 if watchlist.spec.suspend or not within_budget else 1


def build_deployment(
    watchlist: Watchlist,
    shard: int,
    settings: OperatorSettings | None = None,
    *,
    within_budget: bool = True,
) -> Obj:
    """The producer Deployment for one shard: restricted-PSS pod, producer contract env, key by secretKeyRef only."""
    settings = settings or OperatorSettings()
    spec = watchlist.spec
    shards = shard_symbols(spec.symbols, spec.max_symbols_per_producer)
    if not 0 <= shard < len(shards):
        raise IndexError(f"shard {shard} out of range: {watchlist.name} has {len(shards)} shards")
    symbols = shards[shard]
    configmap = build_configmap(watchlist, settings)
    ref = spec.api_key_secret_ref if spec.source != "synthetic" else None
    env: list[Obj] = [{"name": "STOCKS", "value": " ".join(symbols)}]
    if ref is not None:
        env.append(
            {"name": "FINNHUB_API_KEY", "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}},
        )
    selector = {
        "app.kubernetes.io/name": PRODUCER_NAME,
        WATCHLIST_LABEL: watchlist.name,
        SHARD_LABEL: str(shard),
    }
    pod_labels = {**labels(watchlist, "producer"), SHARD_LABEL: str(shard)}
    if spec.pod_monitor.enabled:
        pod_labels[SCRAPED_BY_LABEL] = "watchlist"
    resources = spec.resources
    metadata = _metadata(watchlist, deployment_name(watchlist, shard), "producer")
    metadata["labels"][SHARD_LABEL] = str(shard)
    metadata["annotations"] = {SYMBOLS_ANNOTATION: ",".join(symbols)}
    pod_spec: Obj = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": CONTAINER_NAME,
                "image": settings.producer_image,
                "imagePullPolicy": settings.image_pull_policy,
                "args": ["produce"],
                "envFrom": [{"configMapRef": {"name": configmap_name(watchlist)}}],
                "env": env,
                "ports": [{"name": "metrics", "containerPort": settings.producer_metrics_port, "protocol": "TCP"}],
                "readinessProbe": {
                    "httpGet": {"path": "/metrics", "port": "metrics"},
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                },
                "livenessProbe": {
                    "httpGet": {"path": "/metrics", "port": "metrics"},
                    "initialDelaySeconds": 15,
                    "periodSeconds": 20,
                    "failureThreshold": 3,
                },
                "resources": {
                    "requests": _quantities(
                        resources.requests if resources and resources.requests else DEFAULT_REQUESTS
                    ),
                    "limits": _quantities(resources.limits if resources and resources.limits else DEFAULT_LIMITS),
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir, not the host
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    if settings.producer_service_account:
        pod_spec["serviceAccountName"] = settings.producer_service_account
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": desired_replicas(watchlist, within_budget),
            "revisionHistoryLimit": 3,
            # Recreate: never two pods of one shard at once (double API calls, a second websocket on one key).
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        CONFIG_HASH_ANNOTATION: config_hash(configmap, symbols, (ref.name, ref.key) if ref else None),
                    },
                },
                "spec": pod_spec,
            },
        },
    }


def build_deployments(watchlist: Watchlist, settings: OperatorSettings, *, within_budget: bool = True) -> list[Obj]:
    count = len(shard_symbols(watchlist.spec.symbols, watchlist.spec.max_symbols_per_producer))
    return [build_deployment(watchlist, i, settings, within_budget=within_budget) for i in range(count)]


def build_podmonitor(watchlist: Watchlist) -> Obj:
    """prometheus-operator PodMonitor scraping every shard's `metrics` port, labelled like the chart's scrape."""
    metadata = _metadata(watchlist, f"{watchlist.name}-producer", "monitoring")
    metadata["labels"] = {**watchlist.spec.pod_monitor.labels, **metadata["labels"]}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": metadata,
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": PRODUCER_NAME, WATCHLIST_LABEL: watchlist.name}},
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "interval": watchlist.spec.pod_monitor.interval,
                    "relabelings": [
                        {"action": "replace", "targetLabel": "job", "replacement": PRODUCER_JOB},
                        {
                            "sourceLabels": ["__meta_kubernetes_pod_label_stockwatch_dev_watchlist"],
                            "targetLabel": "watchlist",
                        },
                        {"sourceLabels": ["__meta_kubernetes_pod_label_stockwatch_dev_shard"], "targetLabel": "shard"},
                    ],
                },
            ],
        },
    }


def build_kafkatopic(watchlist: Watchlist, settings: OperatorSettings) -> Obj | None:
    """Strimzi KafkaTopic (kafka.strimzi.io/v1) for a dedicated topic; spec.topicName keeps underscores intact."""
    topic = watchlist.spec.topic
    if topic is None:
        return None
    metadata = _metadata(watchlist, f"{watchlist.name}-topic", "topic")
    metadata["labels"]["strimzi.io/cluster"] = topic.cluster or settings.kafka_cluster
    spec: Obj = {"topicName": topic.name, "partitions": topic.partitions, "replicas": topic.replicas}
    if topic.config:
        spec["config"] = dict(topic.config)
    return {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic", "metadata": metadata, "spec": spec}
