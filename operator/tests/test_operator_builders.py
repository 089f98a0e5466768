"""Pure builders: watchlist -> Deployment / ConfigMap / PodMonitor / KafkaTopic, without a cluster."""

from __future__ import annotations

from typing import Any

import pytest
from stockwatch_operator import builders
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings
from swl_testlib import as_body, example

SETTINGS = OperatorSettings(producer_image="registry.example/sw/pipeline:1.2.3", kafka_bootstrap_servers="k:9092")


def watchlist(name: str = "seed-rest", **spec: Any) -> Watchlist:
    body = as_body(example(name))
    body["spec"].update(spec)
    return Watchlist.from_body(body)


@pytest.mark.parametrize(
    ("count", "per", "sizes"),
    [(10, 5, [5, 5]), (10, 25, [10]), (11, 5, [4, 4, 3]), (1, 1, [1]), (26, 25, [13, 13]), (7, 1, [1] * 7)],
)
def test_shards_are_balanced_contiguous_and_complete(count: int, per: int, sizes: list[int]) -> None:
    symbols = [f"S{i}" for i in range(count)]
    shards = builders.shard_symbols(symbols, per)
    assert [len(s) for s in shards] == sizes
    assert [s for shard in shards for s in shard] == symbols
    assert all(len(shard) <= per for shard in shards)


def test_shard_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        builders.shard_symbols(["AAPL"], 0)


def test_deployment_runs_the_producer_contract() -> None:
    wl = watchlist()
    dep = builders.build_deployment(wl, 1, SETTINGS)
    assert dep["metadata"]["name"] == "seed-rest-producer-1"
    assert dep["metadata"]["namespace"] == "team-a"
    assert dep["spec"]["replicas"] == 1
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/sw/pipeline:1.2.3"
    assert container["args"] == ["produce"]
    env = {e["name"]: e for e in container["env"]}
    assert env["STOCKS"]["value"] == "NVDA META NFLX UBER COIN"
    assert env["FINNHUB_API_KEY"] == {
        "name": "FINNHUB_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "finnhub", "key": "api-key"}},
    }
    assert container["envFrom"] == [{"configMapRef": {"name": "seed-rest-producer"}}]
    assert container["ports"][0]["containerPort"] == 9100


def test_configmap_carries_the_shared_env_and_no_secret() -> None:
    cm = builders.build_configmap(watchlist(), SETTINGS)
    assert cm["data"] == {
        "STOCKWATCH_SOURCE": "finnhub-rest",
        "STOCKWATCH_POLL_INTERVAL_SECONDS": "15",
        "STOCKWATCH_METRICS_PORT": "9100",
        "KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        "KAFKA_TOPIC": "stock_prices",
        "KAFKA_DLQ_TOPIC": "stock_prices_dlq",
    }


def test_pod_meets_restricted_pod_security_standard() -> None:
    pod = builders.build_deployment(watchlist(), 0, SETTINGS)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert "hostNetwork" not in pod
    assert "hostPID" not in pod
    for container in pod["containers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["runAsNonRoot"] is True
    assert all("hostPath" not in v for v in pod["volumes"])


def test_synthetic_has_no_key_and_dedicated_topic() -> None:
    wl = watchlist("synthetic")
    dep = builders.build_deployment(wl, 0, SETTINGS)
    names = [e["name"] for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert names == ["STOCKS"]
    assert builders.build_configmap(wl, SETTINGS)["data"]["KAFKA_TOPIC"] == "stock_prices_synthetic"
    topic = builders.build_kafkatopic(wl, SETTINGS)
    assert topic is not None
    assert topic["apiVersion"] == "kafka.strimzi.io/v1"
    assert topic["metadata"]["name"] == "synthetic-demo-topic"
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "stockwatch"
    assert topic["spec"] == {
        "topicName": "stock_prices_synthetic",
        "partitions": 3,
        "replicas": 1,
        "config": {"retention.ms": 86400000},
    }
    resources = dep["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "25m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}


def test_no_topic_object_without_spec_topic() -> None:
    assert builders.build_kafkatopic(watchlist(), SETTINGS) is None


def test_podmonitor_selects_this_watchlists_producers() -> None:
    pm = builders.build_podmonitor(watchlist("websocket"))
    assert pm["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "stockwatch-producer",
        "stockwatch.dev/watchlist": "trades-ws",
    }
    (endpoint,) = pm["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("metrics", "/metrics", "15s")
    # The same series labels as the chart's producer PodMonitor: alerts and dashboards select job="stockwatch-producer".
    assert {"action": "replace", "targetLabel": "job", "replacement": "stockwatch-producer"} in endpoint["relabelings"]
    assert {r.get("targetLabel") for r in endpoint["relabelings"]} == {"job", "watchlist", "shard"}


def test_pods_a_watchlist_podmonitor_scrapes_are_left_out_of_the_charts() -> None:
    scraped = builders.build_deployments(watchlist("websocket"), SETTINGS)[0]
    plain = builders.build_deployments(watchlist("seed-rest"), SETTINGS)[0]
    assert scraped["spec"]["template"]["metadata"]["labels"]["stockwatch.dev/scraped-by"] == "watchlist"
    assert "stockwatch.dev/scraped-by" not in plain["spec"]["template"]["metadata"]["labels"]
    labelled = watchlist("websocket", podMonitor={"enabled": True, "labels": {"release": "kube-prometheus-stack"}})
    assert builders.build_podmonitor(labelled)["metadata"]["labels"]["release"] == "kube-prometheus-stack"


@pytest.mark.parametrize("name", ["seed-rest", "websocket", "synthetic"])
def test_every_child_is_labelled_and_owned(name: str) -> None:
    wl = watchlist(name)
    children = [builders.build_configmap(wl, SETTINGS), *builders.build_deployments(wl, SETTINGS)]
    children += [builders.build_podmonitor(wl)]
    topic = builders.build_kafkatopic(wl, SETTINGS)
    children += [topic] if topic else []
    for child in children:
        labels = child["metadata"]["labels"]
        for key in ("name", "instance", "component", "part-of", "managed-by"):
            assert labels[f"app.kubernetes.io/{key}"]
        assert labels["app.kubernetes.io/part-of"] == "stockwatch"
        assert child["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "stockwatch.dev/v1alpha1",
                "kind": "StockWatchlist",
                "name": wl.name,
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]


def test_suspend_and_over_budget_scale_to_zero() -> None:
    assert builders.build_deployment(watchlist(suspend=True), 0, SETTINGS)["spec"]["replicas"] == 0
    assert builders.build_deployment(watchlist(), 0, SETTINGS, within_budget=False)["spec"]["replicas"] == 0


def test_config_change_rolls_the_pods() -> None:
    before = builders.build_deployment(watchlist(), 0, SETTINGS)
    after = builders.build_deployment(watchlist(pollIntervalSeconds=30), 0, SETTINGS)
    key = builders.CONFIG_HASH_ANNOTATION
    assert (
        before["spec"]["template"]["metadata"]["annotations"][key]
        != (after["spec"]["template"]["metadata"]["annotations"][key])
    )
    assert before["spec"]["selector"] == after["spec"]["selector"]


def test_shard_out_of_range() -> None:
    with pytest.raises(IndexError, match="has 2 shards"):
        builders.build_deployment(watchlist(), 2, SETTINGS)


def test_calls_per_minute() -> None:
    assert builders.calls_per_minute(watchlist()) == 40
    assert builders.calls_per_minute(watchlist(pollIntervalSeconds=7)) == 86
    assert builders.calls_per_minute(watchlist("websocket")) == 0
