"""End to end on a real cluster deployed by `make kind-up images deploy` (or `helmfile -e production sync`):

StockWatchlist applied -> producer pods ready -> quotes in the Kafka topic -> Airflow DAG run succeeds -> rows in
RAW -> the dbt CronJob, triggered as a Job, succeeds -> rows in the marts.

Run with `make e2e` (KUBECONFIG=.scratch/kind-kubeconfig). When no cluster answers, or when the stockwatch release
is not installed, every test skips with the reason on a laptop, and fails in CI (k8s-tests/kube.py). The warehouse steps
read the account in SNOWFLAKE_* (the one the cluster's `stockwatch-snowflake` Secret points at), or, without one,
the chart's in-cluster warehouse (`localWarehouse`) through `kubectl port-forward`.
Not part of `make test` (not in pytest testpaths).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube import kubectl, poll, require_cluster, unavailable

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = os.environ.get("STOCKWATCH_NAMESPACE", "stockwatch")
AIRFLOW_NAMESPACE = os.environ.get("AIRFLOW_NAMESPACE", "airflow")
RELEASE = os.environ.get("STOCKWATCH_RELEASE", "stockwatch")
KAFKA_CLUSTER = os.environ.get("STOCKWATCH_KAFKA_CLUSTER", "stockwatch")
DAG_ID = "stock_data_ingestion_snowflake"
TOPIC = "stock_prices"


@pytest.fixture(scope="module", autouse=True)
def cluster() -> None:
    """Skip (fail in CI) with the reason unless a cluster answers and the stockwatch release is installed."""
    require_cluster()
    crd = kubectl("get", "crd", "stockwatchlists.stockwatch.dev", check=False, timeout=15)
    kafka = kubectl("-n", NAMESPACE, "get", "kafka", KAFKA_CLUSTER, check=False, timeout=15)
    if crd.returncode != 0 or kafka.returncode != 0:
        unavailable(f"the cluster answers but stockwatch is not deployed in namespace {NAMESPACE}: run `make deploy`")


@pytest.fixture(scope="module")
def watchlist() -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    manifest = {
        "apiVersion": "stockwatch.dev/v1alpha1",
        "kind": "StockWatchlist",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"source": "synthetic", "symbols": ["AAPL", "MSFT", "NVDA"], "pollIntervalSeconds": 5},
    }
    path = ROOT / ".scratch" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(manifest))
    kubectl("apply", "-f", str(path))
    yield name
    kubectl("delete", "-f", str(path), "--ignore-not-found", "--wait=false", check=False)


def test_producer_pods_become_ready(watchlist: str) -> None:
    def ready() -> bool:
        out = kubectl("-n", NAMESPACE, "get", "deploy", "-l", f"app.kubernetes.io/instance={watchlist}", "-o", "json")
        items = json.loads(out.stdout)["items"]
        return bool(items) and all(
            d.get("status", {}).get("readyReplicas", 0) >= d["spec"].get("replicas", 1) for d in items
        )

    poll(f"the producer Deployments of watchlist {watchlist} to be ready", ready, timeout=300)


def test_quotes_arrive_in_the_topic(watchlist: str) -> None:
    pod = f"{KAFKA_CLUSTER}-dual-role-0"

    def consumed() -> list[dict[str, Any]]:
        proc = kubectl(
            "-n", NAMESPACE, "exec", pod, "-c", "kafka", "--", "bin/kafka-console-consumer.sh",
            "--bootstrap-server", "localhost:9092", "--topic", TOPIC, "--from-beginning",
            "--max-messages", "20", "--timeout-ms", "30000",
            check=False, timeout=90,
        )  # fmt: skip
        events = []
        for line in proc.stdout.splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return events

    events = poll(f"quotes in topic {TOPIC}", consumed, timeout=180)
    assert {"symbol", "price"} <= set(events[0])


def _airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return kubectl(
        "-n", AIRFLOW_NAMESPACE, "exec", "deploy/airflow-scheduler", "-c", "scheduler", "--", "airflow", *args,
        check=check, timeout=180,
    )  # fmt: skip


def test_the_airflow_dag_run_succeeds(watchlist: str) -> None:
    _airflow("dags", "unpause", DAG_ID)
    run_id = f"e2e__{uuid.uuid4().hex[:8]}"
    _airflow("dags", "trigger", DAG_ID, "--run-id", run_id)

    def state() -> str | None:
        out = _airflow("dags", "list-runs", DAG_ID, "--output", "json", check=False).stdout
        try:
            runs = json.loads(out[out.index("[") :])
        except ValueError:
            return None
        run = next((r for r in runs if r.get("run_id") == run_id), None)
        if run and run["state"] == "failed":
            raise AssertionError(f"DAG run {run_id} failed: see the Airflow UI")
        return "success" if run and run["state"] == "success" else None

    poll(f"DAG run {run_id} to succeed", state, timeout=900, interval=15)


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Any]:
    """SnowflakeSettings for the warehouse the cluster loads into: SNOWFLAKE_* from this shell, else the in-cluster
    warehouse (`localWarehouse`) through a port-forward."""
    from stockwatch.config import SnowflakeSettings
    from stockwatch.local.process import free_port, port_open

    if os.environ.get("SNOWFLAKE_ACCOUNT"):
        yield SnowflakeSettings()
        return
    service = f"{RELEASE}-warehouse"
    if kubectl("-n", NAMESPACE, "get", "service", service, check=False).returncode != 0:
        unavailable(f"no SNOWFLAKE_ACCOUNT in this shell and no in-cluster warehouse (service {service}) to check")
    port = free_port()
    binary = shutil.which("kubectl")
    assert binary is not None
    forward = subprocess.Popen(
        [binary, "-n", NAMESPACE, "port-forward", f"service/{service}", f"{port}:8765"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        poll(
            f"port-forward to {service}", lambda: port_open(port) or forward.poll() is not None, timeout=60, interval=1
        )
        if forward.poll() is not None:
            raise AssertionError(f"kubectl port-forward failed: {forward.communicate()[1]}")
        yield SnowflakeSettings(account="fakesnow", host="127.0.0.1", port=port, protocol="http")
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def _warehouse_count(settings: Any, sql: str) -> int:
    from stockwatch.warehouse import connect

    with connect(settings) as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def test_rows_reach_raw(watchlist: str, warehouse: Any) -> None:
    sql = "SELECT COUNT(*) FROM RAW_STOCKS.STOCK_PRICES WHERE SYMBOL IN ('AAPL', 'MSFT', 'NVDA')"
    count = _warehouse_count(warehouse, sql)
    assert count > 0


def test_the_dbt_job_succeeds_and_fills_the_marts(watchlist: str, warehouse: Any) -> None:
    job = f"dbt-e2e-{uuid.uuid4().hex[:6]}"
    cronjobs = kubectl(
        "-n", NAMESPACE, "get", "cronjob", "-o", "name",
        "-l", f"app.kubernetes.io/component=dbt,app.kubernetes.io/instance={RELEASE}",
    ).stdout.split()  # fmt: skip
    assert len(cronjobs) == 1, f"expected one dbt CronJob of release {RELEASE}, found {cronjobs}"
    kubectl("-n", NAMESPACE, "create", "job", job, f"--from={cronjobs[0]}")
    try:

        def finished() -> str | None:
            status = json.loads(kubectl("-n", NAMESPACE, "get", "job", job, "-o", "json").stdout).get("status", {})
            if status.get("failed"):
                logs = kubectl("-n", NAMESPACE, "logs", f"job/{job}", "--tail=40", check=False).stdout
                raise AssertionError(f"dbt job {job} failed:\n{logs}")
            return "done" if status.get("succeeded") else None

        poll(f"dbt job {job} to succeed", finished, timeout=1200, interval=10)
    finally:
        kubectl("-n", NAMESPACE, "delete", "job", job, "--ignore-not-found", "--wait=false", check=False)
    assert _warehouse_count(warehouse, "SELECT COUNT(*) FROM MARTS_STOCKS.STOCK_ANALYTICS") > 0
