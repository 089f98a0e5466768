"""The operator against a real kube-apiserver + etcd + kube-controller-manager, under its own RBAC.

There is no kubelet: Deployments get ReplicaSets and Pods (admitted by the restricted Pod Security
admission) that never run. Where a test needs a ready producer it patches the Pod's status the way a
kubelet would (said in the test), and the Deployment controller derives readiness from it.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import pytest
import yaml
from swl_fixtures import operator_fixture, operator_kubeconfig_fixture  # noqa: F401 - fixtures used by name
from swl_kube import Kube, condition, container_env
from swl_operator import OperatorProcess
from swl_testlib import PEERING_PATH, TEST_IMAGE, example, wait_until

from stockwatch.testing.k8s import KubeAPIServer

TIMEOUT = 60.0
SWL = "stockwatchlists.stockwatch.dev"


@pytest.fixture
def kube(kube_apiserver: KubeAPIServer, k8s_namespace: str) -> Kube:
    return Kube(kube_apiserver, k8s_namespace)


def converged(kube: Kube, name: str, generation: int | None = None) -> dict[str, Any]:
    """Wait until the operator has reconciled the watchlist's current generation; return it."""

    def check() -> dict[str, Any] | None:
        obj = kube.get(SWL, name)
        if obj is None:
            return None
        want = generation or obj["metadata"]["generation"]
        return obj if (obj.get("status") or {}).get("observedGeneration") == want else None

    return wait_until(check, TIMEOUT, f"watchlist {name} to be reconciled")


def deployments(kube: Kube, watchlist: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in kube.items("deployments", f"stockwatch.dev/watchlist={watchlist}")}


def wait_deployments(kube: Kube, watchlist: str, names: list[str]) -> dict[str, dict[str, Any]]:
    def check() -> dict[str, dict[str, Any]] | None:
        found = deployments(kube, watchlist)
        return found if sorted(found) == sorted(names) else None

    return wait_until(check, TIMEOUT, f"exactly the Deployments {names}")


def with_spec(name: str, manifest_name: str = "seed-rest", **spec: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(example(manifest_name))
    manifest["metadata"]["name"] = name
    manifest["spec"].update(spec)
    return manifest


def test_examples_converge_to_the_right_children(kube: Kube, operator: OperatorProcess) -> None:
    for name in ("seed-rest", "websocket", "synthetic"):
        kube.apply(example(name))
    rest = converged(kube, "seed-rest")
    ws = converged(kube, "trades-ws")
    syn = converged(kube, "synthetic-demo")

    # seed-rest: ten symbols in two shards of five, the key only by secretKeyRef.
    deps = wait_deployments(kube, "seed-rest", ["seed-rest-producer-0", "seed-rest-producer-1"])
    env0, env1 = (container_env(deps[f"seed-rest-producer-{i}"]) for i in (0, 1))
    assert env0["STOCKS"] == "AAPL GOOGL MSFT AMZN TSLA"
    assert env1["STOCKS"] == "NVDA META NFLX UBER COIN"
    assert env0["FINNHUB_API_KEY"] == {"secretKeyRef": {"name": "finnhub", "key": "api-key"}}
    dep = deps["seed-rest-producer-0"]
    assert dep["spec"]["replicas"] == 1
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == TEST_IMAGE
    owner = dep["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("StockWatchlist", "seed-rest", rest["metadata"]["uid"])
    assert dep["metadata"]["labels"]["app.kubernetes.io/part-of"] == "stockwatch"
    cm = kube.get("configmap", "seed-rest-producer")
    assert cm is not None
    assert cm["data"]["STOCKWATCH_SOURCE"] == "finnhub-rest"
    assert cm["data"]["STOCKWATCH_POLL_INTERVAL_SECONDS"] == "15"
    assert cm["data"]["KAFKA_TOPIC"] == "stock_prices"

    # websocket: one producer, a PodMonitor.
    wait_deployments(kube, "trades-ws", ["trades-ws-producer-0"])
    pm = kube.get("podmonitors.monitoring.coreos.com", "trades-ws-producer")
    assert pm is not None
    assert pm["spec"]["podMetricsEndpoints"][0]["interval"] == "15s"

    # synthetic: 12 symbols / 4 per producer, no key, a Strimzi KafkaTopic carrying the underscore name.
    syn_deps = wait_deployments(kube, "synthetic-demo", [f"synthetic-demo-producer-{i}" for i in range(3)])
    assert all("FINNHUB_API_KEY" not in container_env(d) for d in syn_deps.values())
    topic = kube.get("kafkatopics.kafka.strimzi.io", "synthetic-demo-topic")
    assert topic is not None
    assert topic["spec"]["topicName"] == "stock_prices_synthetic"
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "stockwatch"
    assert container_env(syn_deps["synthetic-demo-producer-0"])["STOCKS"] == "AAPL GOOGL MSFT AMZN"

    # status: counts, observedGeneration, conditions (no kubelet -> not ready yet).
    for obj, symbols, producers in ((rest, 10, 2), (ws, 7, 1), (syn, 12, 3)):
        status = obj["status"]
        assert (status["symbols"], status["producers"], status["readyProducers"]) == (symbols, producers, 0)
        assert condition(obj, "RateBudget")["status"] == "True"  # type: ignore[index]
        ready = condition(obj, "Ready")
        assert ready is not None
        assert (ready["status"], ready["reason"]) == ("False", "ProducersNotReady")
        assert ready["observedGeneration"] == obj["metadata"]["generation"]
    assert "uses 40 of 60 calls/min" in condition(rest, "RateBudget")["message"]  # type: ignore[index]

    # Pods were admitted under the namespace's enforced `restricted` Pod Security Standard.
    wait_until(lambda: kube.items("pods", "stockwatch.dev/watchlist=seed-rest") or None, TIMEOUT, "producer pods")

    # Events on the watchlist say what the operator did.
    wait_until(
        lambda: (
            "created Deployment seed-rest-producer-0"
            in kube.kubectl("get", "events", "--field-selector", "involvedObject.name=seed-rest", "-o", "yaml")
        ),
        TIMEOUT,
        "a Created event on the watchlist",
    )

    # kubectl get swl shows the printer columns.
    table = kube.kubectl("get", "swl")
    assert re.search(r"NAME\s+SOURCE\s+SYMBOLS\s+PRODUCERS\s+READY\s+AGE", table), table
    assert re.search(r"seed-rest\s+finnhub-rest\s+10\s+2\s+False\s+\d+s", table), table
    wide = kube.kubectl("get", "swl", "-o", "wide")
    assert re.search(r"BUDGET\s+SUSPENDED", wide), wide


def test_editing_symbols_reshards(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("reshard"))
    converged(kube, "reshard")
    wait_deployments(kube, "reshard", ["reshard-producer-0", "reshard-producer-1"])

    kube.patch(SWL, "reshard", {"spec": {"maxSymbolsPerProducer": 3}})
    obj = converged(kube, "reshard", generation=2)
    deps = wait_deployments(kube, "reshard", [f"reshard-producer-{i}" for i in range(4)])
    assert [container_env(deps[f"reshard-producer-{i}"])["STOCKS"] for i in range(4)] == [
        "AAPL GOOGL MSFT",
        "AMZN TSLA NVDA",
        "META NFLX",
        "UBER COIN",
    ]
    assert obj["status"]["producers"] == 4

    kube.patch(SWL, "reshard", {"spec": {"symbols": ["BRK.B", "BINANCE:BTCUSDT"]}})
    obj = converged(kube, "reshard", generation=3)
    deps = wait_deployments(kube, "reshard", ["reshard-producer-0"])
    assert container_env(deps["reshard-producer-0"])["STOCKS"] == "BRK.B BINANCE:BTCUSDT"
    assert (obj["status"]["symbols"], obj["status"]["producers"]) == (2, 1)


def test_deleted_or_edited_children_come_back(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("drift"))
    converged(kube, "drift")
    before = wait_deployments(kube, "drift", ["drift-producer-0", "drift-producer-1"])

    kube.delete("deployment", "drift-producer-0")
    restored = wait_until(
        lambda: (
            (d := kube.get("deployment", "drift-producer-0"))
            and d["metadata"]["uid"] != before["drift-producer-0"]["metadata"]["uid"]
            and d
        ),
        TIMEOUT,
        "the deleted Deployment to be re-created",
    )
    assert container_env(restored)["STOCKS"] == "AAPL GOOGL MSFT AMZN TSLA"

    kube.patch("deployment", "drift-producer-1", {"spec": {"replicas": 5}})
    kube.patch("configmap", "drift-producer", {"data": {"KAFKA_TOPIC": "somewhere_else"}})
    wait_until(
        lambda: kube.get("deployment", "drift-producer-1")["spec"]["replicas"] == 1,  # type: ignore[index]
        TIMEOUT,
        "the edited replica count to be repaired",
    )
    wait_until(
        lambda: kube.get("configmap", "drift-producer")["data"]["KAFKA_TOPIC"] == "stock_prices",  # type: ignore[index]
        TIMEOUT,
        "the edited ConfigMap to be repaired",
    )


def test_suspend_scales_to_zero_and_back(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("pause", "synthetic", topic=None))
    converged(kube, "pause")
    kube.patch(SWL, "pause", {"spec": {"suspend": True}})
    obj = converged(kube, "pause", generation=2)
    assert condition(obj, "Ready")["reason"] == "Suspended"  # type: ignore[index]
    wait_until(
        lambda: all(d["spec"]["replicas"] == 0 for d in deployments(kube, "pause").values()) or None,
        TIMEOUT,
        "every producer scaled to 0",
    )
    assert len(deployments(kube, "pause")) == 3  # the Deployments stay
    kube.patch(SWL, "pause", {"spec": {"suspend": False}})
    converged(kube, "pause", generation=3)
    wait_until(
        lambda: all(d["spec"]["replicas"] == 1 for d in deployments(kube, "pause").values()) or None,
        TIMEOUT,
        "every producer back at 1 replica",
    )


def test_rate_budget_flips_when_a_second_watchlist_overflows_the_key(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("alpha"))  # 10 symbols every 15 s = 40 calls/min
    assert condition(converged(kube, "alpha"), "RateBudget")["status"] == "True"  # type: ignore[index]
    kube.apply(with_spec("beta", symbols=["IBM", "ORCL", "INTC", "AMD", "QCOM", "CSCO"], maxSymbolsPerProducer=10))

    def over_budget() -> dict[str, Any] | None:
        obj = kube.get(SWL, "beta")
        budget = condition(obj, "RateBudget")
        return obj if budget and budget["status"] == "False" else None

    beta = wait_until(over_budget, TIMEOUT, "beta's RateBudget to turn False")
    message = condition(beta, "RateBudget")["message"]  # type: ignore[index]
    assert "needs 24 calls/min" in message
    assert "over by 4 calls/min" in message
    assert "set pollIntervalSeconds to at least 18" in message
    assert condition(beta, "Ready")["reason"] == "OverBudget"  # type: ignore[index]
    deps = wait_deployments(kube, "beta", ["beta-producer-0"])
    assert deps["beta-producer-0"]["spec"]["replicas"] == 0  # no producer beyond the budget
    assert all(d["spec"]["replicas"] == 1 for d in deployments(kube, "alpha").values())
    assert condition(kube.get(SWL, "alpha"), "RateBudget")["status"] == "True"  # type: ignore[index]
    wait_until(
        lambda: (
            "OverBudget"
            in kube.kubectl("get", "events", "--field-selector", "involvedObject.name=beta,type=Warning", "-o", "yaml")
        ),
        TIMEOUT,
        "a Warning OverBudget event on beta",
    )

    kube.patch(SWL, "beta", {"spec": {"pollIntervalSeconds": 30}})  # 12 calls/min: fits in the 20 left
    beta = converged(kube, "beta", generation=2)
    assert condition(beta, "RateBudget")["status"] == "True"  # type: ignore[index]
    wait_until(
        lambda: kube.get("deployment", "beta-producer-0")["spec"]["replicas"] == 1,  # type: ignore[index]
        TIMEOUT,
        "beta's producer to start once it fits",
    )


def test_ready_when_the_producer_pods_are_ready(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("ready", "synthetic", topic=None, symbols=["AAPL"]))
    converged(kube, "ready")
    pod = wait_until(lambda: next(iter(kube.items("pods", "stockwatch.dev/watchlist=ready")), None), TIMEOUT, "pod")
    # No kubelet here: report the pod Running and Ready the way a kubelet would.
    kube.patch(
        "pod",
        pod["metadata"]["name"],
        {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        subresource="status",
    )

    def ready() -> dict[str, Any] | None:
        obj = kube.get(SWL, "ready")
        return obj if (condition(obj, "Ready") or {}).get("status") == "True" else None

    obj = wait_until(ready, TIMEOUT, "Ready=True from the Deployment's readyReplicas")
    assert obj["status"]["readyProducers"] == 1
    assert "ready" in kube.kubectl("get", "swl", "ready")


def test_producers_are_repaired_and_reported_at_once_without_the_timer(
    kube: Kube, operator: OperatorProcess, tmp_path: Any
) -> None:
    """With the repair timer at an hour, only the operator's watch on its Deployments can restore a deleted or
    edited producer, and move Ready with the producers' readiness, within this test's timeout."""
    operator.stop()
    instant = OperatorProcess(
        operator.kubeconfig,
        tmp_path / "instant.log",
        env={"STOCKWATCH_RECONCILE_INTERVAL_SECONDS": "3600", "STOCKWATCH_PRODUCER_IMAGE": TEST_IMAGE},
    )
    try:
        instant.start()
        kube.apply(with_spec("instant", "synthetic", topic=None, symbols=["AAPL", "MSFT"], maxSymbolsPerProducer=1))
        converged(kube, "instant")
        before = wait_deployments(kube, "instant", ["instant-producer-0", "instant-producer-1"])

        kube.delete("deployment", "instant-producer-0")
        wait_until(
            lambda: (
                (d := kube.get("deployment", "instant-producer-0"))
                and d["metadata"]["uid"] != before["instant-producer-0"]["metadata"]["uid"]
            ),
            TIMEOUT,
            "the deleted Deployment to be re-created by the watch",
        )
        kube.patch("deployment", "instant-producer-1", {"spec": {"replicas": 4}})
        wait_until(
            lambda: kube.get("deployment", "instant-producer-1")["spec"]["replicas"] == 1,  # type: ignore[index]
            TIMEOUT,
            "the edited replica count to be repaired by the watch",
        )
        kube.patch("configmap", "instant-producer", {"data": {"KAFKA_TOPIC": "somewhere_else"}})
        wait_until(
            lambda: kube.get("configmap", "instant-producer")["data"]["KAFKA_TOPIC"] == "stock_prices",  # type: ignore[index]
            TIMEOUT,
            "the edited ConfigMap to be repaired by the watch",
        )

        def all_ready() -> dict[str, Any] | None:
            # No kubelet here: report every producer pod Running and Ready the way a kubelet would.
            for pod in kube.items("pods", "stockwatch.dev/watchlist=instant"):
                if not any(c.get("type") == "Ready" for c in (pod.get("status") or {}).get("conditions") or []):
                    status = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
                    kube.patch("pod", pod["metadata"]["name"], {"status": status}, subresource="status")
            obj = kube.get(SWL, "instant")
            return obj if (condition(obj, "Ready") or {}).get("status") == "True" else None

        assert wait_until(all_ready, TIMEOUT, "Ready=True from the watch")["status"]["readyProducers"] == 2
        log = instant.log_text()
        assert "Deployment instant-producer-0 deleted: reconciling watchlist instant" in log
        assert "Deployment instant-producer-1 differs from the watchlist: reconciling watchlist instant" in log
        assert "ConfigMap instant-producer differs from the watchlist: reconciling watchlist instant" in log
        assert "Traceback" not in log
    finally:
        instant.stop()
        operator.start()


def test_operator_killed_mid_way_converges_after_restart(kube: Kube, operator: OperatorProcess) -> None:
    symbols = [f"T{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(30)]
    kube.apply(with_spec("restart", "synthetic", topic=None, symbols=symbols, maxSymbolsPerProducer=1))
    wait_until(lambda: len(deployments(kube, "restart")) >= 3 or None, TIMEOUT, "the first producers")
    operator.kill()  # like a crashed pod, mid-reconcile
    try:
        kube.patch(SWL, "restart", {"spec": {"symbols": symbols[:20]}})
        kube.delete("deployment", "restart-producer-0") if kube.get("deployment", "restart-producer-0") else None
    finally:
        operator.start()
    obj = converged(kube, "restart", generation=2)
    wait_deployments(kube, "restart", [f"restart-producer-{i}" for i in range(20)])
    assert (obj["status"]["symbols"], obj["status"]["producers"]) == (20, 20)


def test_deleting_the_watchlist_cascades(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("gone", "synthetic"))
    converged(kube, "gone")
    wait_until(lambda: kube.get("kafkatopics.kafka.strimzi.io", "gone-topic"), TIMEOUT, "the KafkaTopic")
    kube.delete(SWL, "gone")
    wait_until(
        lambda: not kube.names("deployments,configmaps,kafkatopics.kafka.strimzi.io", "stockwatch.dev/watchlist=gone"),
        TIMEOUT,
        "the garbage collector to remove every child",
    )


def test_dropping_topic_and_podmonitor_removes_them(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(with_spec("extras", "synthetic", podMonitor={"enabled": True}))
    converged(kube, "extras")
    wait_until(lambda: kube.get("kafkatopics.kafka.strimzi.io", "extras-topic"), TIMEOUT, "the KafkaTopic")
    wait_until(lambda: kube.get("podmonitors.monitoring.coreos.com", "extras-producer"), TIMEOUT, "the PodMonitor")
    ops = [
        {"op": "remove", "path": "/spec/topic"},
        {"op": "replace", "path": "/spec/podMonitor/enabled", "value": False},
    ]
    kube.api.kubectl("patch", SWL, "extras", "-n", kube.namespace, "--type=json", "-p", json.dumps(ops))
    obj = converged(kube, "extras", generation=2)
    assert obj["status"]["topic"] == "stock_prices"
    wait_until(
        lambda: not kube.names(
            "kafkatopics.kafka.strimzi.io,podmonitors.monitoring.coreos.com", "stockwatch.dev/watchlist=extras"
        ),
        TIMEOUT,
        "the KafkaTopic and PodMonitor to be deleted",
    )  # fmt: skip
    wait_until(
        lambda: kube.get("configmap", "extras-producer")["data"]["KAFKA_TOPIC"] == "stock_prices",  # type: ignore[index]
        TIMEOUT,
        "producers back on the shared topic",
    )


EDGE_CASES: dict[str, dict[str, Any]] = {
    "longest name and odd symbols": {
        "metadata": {"name": "w" * 40},
        "spec": {"source": "synthetic", "symbols": ["BRK.B", "BF-B", "OANDA:EUR_USD", "BINANCE:BTC/USDT", "X"]},
    },
    "one producer per symbol, slowest poll": {
        "metadata": {"name": "per-symbol"},
        "spec": {
            "source": "synthetic", "symbols": ["A", "B", "C"], "maxSymbolsPerProducer": 1, "pollIntervalSeconds": 3600,
        },
    },
    "integer quantities and mixed topic config": {
        "metadata": {"name": "quantities"},
        "spec": {
            "source": "synthetic", "symbols": ["AAPL"],
            "resources": {"requests": {"cpu": 1, "memory": "64Mi"}, "limits": {"cpu": "1500m", "memory": 134217728}},
            "topic": {"name": "q.t-1", "config": {"retention.ms": 1000, "cleanup.policy": "compact", "x": True}},
        },
    },
    "websocket alone on a key, suspended from the start": {
        "metadata": {"name": "ws-suspended"},
        "spec": {"source": "finnhub-ws", "symbols": ["AAPL"], "apiKeySecretRef": {"name": "other"}, "suspend": True},
    },
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_anything_admitted_is_reconciled_without_flapping(kube: Kube, operator: OperatorProcess, case: str) -> None:
    manifest = {"apiVersion": "stockwatch.dev/v1alpha1", "kind": "StockWatchlist", **copy.deepcopy(EDGE_CASES[case])}
    kube.apply(manifest)
    name = manifest["metadata"]["name"]
    obj = converged(kube, name)
    assert condition(obj, "Ready") is not None
    assert obj["status"]["producers"] == len(deployments(kube, name)) > 0
    # generation, not resourceVersion: the deployment controller (kube-controller-manager) writes status meanwhile.
    versions = {d["metadata"]["name"]: d["metadata"]["generation"] for d in deployments(kube, name).values()}
    # Several repair passes later (one per second) no spec was re-applied: desired == actual, no flapping.
    passes = f"[{kube.namespace}/{name}] Timer 'repair' succeeded"
    wait_until(lambda: operator.log_text().count(passes) >= 3, TIMEOUT, "three repair passes")
    assert {d["metadata"]["name"]: d["metadata"]["generation"] for d in deployments(kube, name).values()} == versions
    events = kube.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "yaml")
    assert "(it differed from the watchlist)" not in events


def test_metrics_and_the_key_never_leaks(kube: Kube, operator: OperatorProcess) -> None:
    secret_value = f"sw-key-{uuid.uuid4().hex}"
    kube.api.kubectl(
        "create", "secret", "generic", "finnhub", "-n", kube.namespace, f"--from-literal=api-key={secret_value}"
    )
    kube.apply(with_spec("metered"))
    converged(kube, "metered")
    text = operator.metrics()
    success = re.search(r'^stockwatch_operator_reconciles_total\{result="success"\} (\S+)$', text, re.M)
    assert success is not None
    assert float(success.group(1)) > 0
    for name in (
        "stockwatch_operator_reconcile_duration_seconds_bucket",
        'stockwatch_operator_watchlists{condition="RateBudget",status="True"}',
        "stockwatch_operator_producers_desired",
    ):
        assert name in text
    seen = [
        operator.log_text(),
        kube.kubectl("get", "swl,deployments,configmaps,events", "-o", "yaml"),
        text,
    ]
    assert not any(secret_value in blob for blob in seen)


def test_two_replicas_with_peering_only_one_works(
    kube_apiserver: KubeAPIServer, kube: Kube, operator: OperatorProcess, tmp_path: Any
) -> None:
    kube_apiserver.kubectl("apply", "-f", str(PEERING_PATH))
    operator.stop()
    replicas = [
        OperatorProcess(
            operator.kubeconfig,
            tmp_path / f"replica-{i}.log",
            peering="stockwatch-operator",
            env={"STOCKWATCH_RECONCILE_INTERVAL_SECONDS": "1", "STOCKWATCH_OPERATOR_PRIORITY": str(10 + i)},
        )
        for i in range(2)
    ]
    try:
        for replica in replicas:
            replica.start()
        low, high = replicas
        wait_until(lambda: "Pausing operations in favour of" in low.log_text(), TIMEOUT, "the lower priority to pause")
        kube.apply(with_spec("peered", "synthetic", topic=None))
        converged(kube, "peered")
        assert "peered" in high.log_text()
        assert "peered" not in low.log_text()
    finally:
        for replica in replicas:
            replica.stop()
        operator.start()


def test_rbac_grants_nothing_beyond_what_the_operator_uses(kube_apiserver: KubeAPIServer) -> None:
    documents = list(yaml.safe_load_all((PEERING_PATH.parent / "rbac.yaml").read_text()))
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    granted = {
        (g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    }
    children = {
        (g, r)
        for g, r in [
            ("", "configmaps"),
            ("apps", "deployments"),
            ("monitoring.coreos.com", "podmonitors"),
            ("kafka.strimzi.io", "kafkatopics"),
        ]
    }
    expected = {
        *{("stockwatch.dev", "stockwatchlists", v) for v in ("list", "watch", "patch")},
        ("stockwatch.dev", "stockwatchlists/status", "patch"),
        ("stockwatch.dev", "stockwatchlists/finalizers", "update"),
        ("", "events", "create"),
        *{(g, r, v) for g, r in children for v in ("list", "create", "patch", "delete")},
        ("apps", "deployments", "watch"),
        ("", "configmaps", "watch"),
        *{("kopf.dev", r, v) for r in ("clusterkopfpeerings", "kopfpeerings") for v in ("list", "watch", "patch")},
    }
    assert granted == expected
    assert all("*" not in str(rule) for rule in role["rules"])
    kube_apiserver.kubectl("create", "namespace", "stockwatch", check=False)
    kube_apiserver.kubectl("apply", "-f", str(PEERING_PATH.parent / "rbac.yaml"))
    who = "--as=system:serviceaccount:stockwatch:stockwatch-operator"
    for verb, resource in [
        ("get", "secrets"),
        ("list", "secrets"),
        ("create", "pods"),
        ("update", "deployments"),
        ("delete", "stockwatchlists.stockwatch.dev"),
        ("create", "stockwatchlists.stockwatch.dev"),
    ]:
        answer = kube_apiserver.kubectl("auth", "can-i", verb, resource, who, "-A", check=False).stdout.strip()
        assert answer == "no", f"the operator may {verb} {resource}"
    assert kube_apiserver.kubectl("auth", "can-i", "patch", "deployments", who, "-A").stdout.strip() == "yes"


def test_operator_log_has_no_denials_or_crashes(operator: OperatorProcess) -> None:
    """Every test above ran through the operator under the shipped RBAC: nothing was forbidden, nothing crashed."""
    log = operator.log_text()
    assert 'is forbidden: User "system:serviceaccount:stockwatch:stockwatch-operator"' not in log
    assert "check the operator's RBAC" not in log
    assert "Traceback" not in log
    assert operator.alive()
