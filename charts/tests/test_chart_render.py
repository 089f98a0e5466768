"""Every ci/ scenario lints, renders, and every object it renders is valid and meets restricted Pod Security."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest

from charts.tests.chartlib import (
    CHART,
    NAMESPACE,
    RELEASE,
    SCENARIOS,
    Helm,
    Manifest,
    dig,
    kubernetes_validate_strict,
    pod_specs,
    restricted_violations,
)

Render = Callable[[Path], list[Manifest]]
# API groups the Kubernetes OpenAPI schema covers; custom resources go to the API server tests instead.
CORE_GROUPS = {"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "policy/v1"}
REQUIRED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
)


def test_there_are_scenarios() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"default-values.yaml", "kind-values.yaml", "production-values.yaml"} <= names


def test_helm_lint_strict(helm: Helm, scenario: Path) -> None:
    out = helm.lint([scenario])
    assert "0 chart(s) failed" in out


def test_core_objects_match_the_kubernetes_schema(render: Render, scenario: Path) -> None:
    checked = 0
    for doc in render(scenario):
        if doc["apiVersion"] in CORE_GROUPS:
            kubernetes_validate_strict(doc)
            checked += 1
    assert checked >= 5


def test_strict_schema_validation_refuses_an_unknown_field(render: Render) -> None:
    deployment = next(d for d in render(CHART / "ci" / "default-values.yaml") if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate_strict(broken)


def test_every_object_carries_the_standard_labels(render: Render, scenario: Path) -> None:
    for doc in render(scenario):
        labels = doc["metadata"].get("labels") or {}
        missing = [key for key in REQUIRED_LABELS if key not in labels]
        assert missing == [], f"{doc['kind']}/{doc['metadata']['name']} lacks {missing}"
        assert labels["app.kubernetes.io/part-of"] == "stockwatch"
        assert labels["app.kubernetes.io/instance"] == RELEASE


def strimzi_pod_specs(manifests: list[Manifest]) -> list[tuple[str, Manifest]]:
    """The pods Strimzi will run, assembled from the security settings our Kafka resources give it."""
    pods: list[tuple[str, Manifest]] = []
    for doc in manifests:
        if doc["kind"] == "KafkaNodePool":
            template = doc["spec"]["template"]
            containers = [
                {"name": "kafka", "securityContext": template["kafkaContainer"]["securityContext"]},
            ]
            init = [{"name": "kafka-init", "securityContext": template["initContainer"]["securityContext"]}]
            spec = {"securityContext": template["pod"]["securityContext"], "containers": containers}
            pods.append((f"KafkaNodePool/{doc['metadata']['name']}", {**spec, "initContainers": init}))
        if doc["kind"] == "Kafka":
            template = doc["spec"]["entityOperator"]["template"]
            containers = [
                {"name": "topic-operator", "securityContext": template["topicOperatorContainer"]["securityContext"]}
            ]
            pods.append(
                (
                    f"Kafka/{doc['metadata']['name']}/entity-operator",
                    {"securityContext": template["pod"]["securityContext"], "containers": containers},
                )
            )
    return pods


def test_every_pod_meets_restricted_pod_security(render: Render, scenario: Path) -> None:
    manifests = render(scenario)
    pods = [*pod_specs(manifests), *strimzi_pod_specs(manifests)]
    assert pods, "the scenario renders no pods"
    for name, spec in pods:
        assert restricted_violations(spec) == [], name
        for container in spec.get("containers", []):
            assert container["securityContext"].get("readOnlyRootFilesystem", True), f"{name}/{container['name']}"


def test_the_restricted_check_catches_a_root_pod(render: Render) -> None:
    _, spec = next(pod_specs(render(CHART / "ci" / "default-values.yaml")))
    container = {**spec["containers"][0], "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": True}}
    root_pod = {**spec, "securityContext": {}, "containers": [container]}
    problems = restricted_violations(root_pod)
    assert any("runAsUser is 0" in p for p in problems)
    assert any("allowPrivilegeEscalation" in p for p in problems)
    assert any("seccompProfile" in p for p in problems)
    assert any("capabilities.drop" in p for p in problems)


def test_secrets_are_only_referenced(render: Render, scenario: Path) -> None:
    """No credential in any rendered object: SNOWFLAKE_* credentials come from secretKeyRef (the local warehouse
    of `localWarehouse` has none: account, user and password are the fixed placeholders it ignores)."""
    manifests = render(scenario)
    for secret in (d for d in manifests if d["kind"] == "Secret"):
        # The only Secret the chart may render is the Alertmanager routing config, which names a password file.
        data = secret.get("stringData") or {}
        assert set(data) | set(secret.get("data") or {}) == {"alertmanager.yaml"}, secret["metadata"]["name"]
        assert "smtp_auth_password:" not in data["alertmanager.yaml"]
    for name, spec in pod_specs(manifests):
        for container in spec["containers"]:
            env_list = container.get("env") or []
            local = any(e["name"] == "SNOWFLAKE_ACCOUNT" and e.get("value") == "fakesnow" for e in env_list)
            for env in env_list:
                if local and env["name"] in {"SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD"}:
                    assert env.get("value") in {"fakesnow", "stockwatch"}, f"{name}: {env['name']}"
                    continue
                if env["name"] in {"SNOWFLAKE_PASSWORD", "SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "FINNHUB_API_KEY"}:
                    assert "secretKeyRef" in env.get("valueFrom", {}), f"{name}: {env['name']}"


def test_the_dbt_cronjob_never_overlaps_and_keeps_history(render: Render, scenario: Path) -> None:
    cronjobs = [d for d in render(scenario) if d["kind"] == "CronJob"]
    assert len(cronjobs) == 1
    spec = cronjobs[0]["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    pod = dig(spec, ("jobTemplate", "spec", "template", "spec"))
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False


def test_the_scheduled_dbt_build_skips_unit_tests_unless_asked(helm: Helm) -> None:
    def dbt_env(*sets: str) -> dict[str, str]:
        manifests = helm.template([CHART / "ci" / "default-values.yaml"], sets)
        (cronjob,) = [d for d in manifests if d["kind"] == "CronJob"]
        (container,) = dig(cronjob["spec"], ("jobTemplate", "spec", "template", "spec", "containers"))
        return {e["name"]: e.get("value") for e in container["env"]}

    assert dbt_env()["DBT_EXCLUDE_RESOURCE_TYPES"] == "unit_test"
    assert "DBT_EXCLUDE_RESOURCE_TYPES" not in dbt_env("dbt.unitTests=true")


def test_kafka_topics_and_no_auto_creation(render: Render) -> None:
    manifests = render(CHART / "ci" / "default-values.yaml")
    topics = {d["spec"]["topicName"]: d for d in manifests if d["kind"] == "KafkaTopic"}
    assert set(topics) == {"stock_prices", "stock_prices_dlq"}
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "stockwatch"
        assert "_" not in topic["metadata"]["name"]
    kafka = next(d for d in manifests if d["kind"] == "Kafka")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pool = next(d for d in manifests if d["kind"] == "KafkaNodePool")
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]


def test_production_runs_three_persistent_kraft_nodes(render: Render) -> None:
    manifests = render(CHART / "ci" / "production-values.yaml")
    pool = next(d for d in manifests if d["kind"] == "KafkaNodePool")
    assert pool["spec"]["replicas"] == 3
    assert pool["spec"]["storage"]["volumes"][0]["type"] == "persistent-claim"
    config = next(d for d in manifests if d["kind"] == "Kafka")["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2
    assert config["default.replication.factor"] == 3
    images = {c["image"] for _, spec in pod_specs(manifests) for c in spec["containers"]}
    assert all("@sha256:" in image for image in images), images


def test_external_kafka_renders_no_strimzi_objects(render: Render) -> None:
    manifests = render(CHART / "ci" / "external-kafka-values.yaml")
    assert not [d for d in manifests if d["apiVersion"].startswith("kafka.strimzi.io")]
    loader = next(d for d in manifests if d["kind"] == "Deployment" and "loader" in d["metadata"]["name"])
    env = {e["name"]: e.get("value") for e in loader["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_BOOTSTRAP_SERVERS"].startswith("kafka-0.kafka.example.internal:9092")


def test_the_local_warehouse_replaces_snowflake_for_loader_and_dbt(render: Render) -> None:
    manifests = render(CHART / "ci" / "kind-values.yaml")
    (service,) = [d for d in manifests if d["kind"] == "Service" and d["metadata"]["name"].endswith("-warehouse")]
    host = f"{service['metadata']['name']}.{NAMESPACE}.svc"
    (warehouse,) = [d for d in manifests if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-warehouse")]
    assert warehouse["spec"]["strategy"]["type"] == "Recreate"
    assert warehouse["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["warehouse", "local"]
    clients = [
        d
        for d in manifests
        if d["kind"] in ("Deployment", "CronJob") and not d["metadata"]["name"].endswith("-warehouse")
    ]
    snowflake_clients = 0
    for name, spec in pod_specs(clients):
        for container in spec["containers"]:
            env = {e["name"]: e for e in container.get("env") or []}
            if "SNOWFLAKE_ACCOUNT" not in env:
                continue
            snowflake_clients += 1
            assert env["SNOWFLAKE_ACCOUNT"]["value"] == "fakesnow", name
            assert (env["SNOWFLAKE_HOST"]["value"], env["SNOWFLAKE_PROTOCOL"]["value"]) == (host, "http"), name
            assert env["SNOWFLAKE_PORT"]["value"] == str(service["spec"]["ports"][0]["port"]), name
            assert not any("valueFrom" in e for key, e in env.items() if key.startswith("SNOWFLAKE_")), name
            assert env["SNOWFLAKE_PASSWORD"]["value"] == "fakesnow", name  # a placeholder the connector insists on
    assert snowflake_clients == 2  # the loader and the dbt CronJob
    (policy,) = [d for d in manifests if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].endswith("-warehouse")]
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "airflow"}}} in peers
