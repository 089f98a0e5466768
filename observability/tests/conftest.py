"""The running pipeline the observability checks scrape: real Kafka, fakesnow, producers, loader, operator
and a real Prometheus, started once per module (see test_prometheus.py)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from confluent_kafka import Producer

from observability.chart import rule_files
from observability.dashboards import DASHBOARDS
from observability.prometheus import LocalPrometheus, Target
from stockwatch.config import KafkaSettings
from stockwatch.local.fakesnow import LocalFakesnow
from stockwatch.local.kafka import LocalKafka
from stockwatch.local.process import ManagedProcess, free_port, wait_for
from stockwatch.testing.finnhub_server import FinnhubServer
from stockwatch.testing.k8s import KubeAPIServer
from stockwatch.testing.k8s import kube_apiserver as kube_apiserver  # the real API server fixture
from stockwatch.topics import fresh_topics
from stockwatch.warehouse import init_warehouse

STOCKWATCH = str(Path(sys.executable).parent / "stockwatch")
OPERATOR_EXAMPLE = Path(__file__).resolve().parents[2] / "operator" / "examples" / "synthetic.yaml"


@dataclass
class Pipeline:
    prometheus: LocalPrometheus
    processes: dict[str, ManagedProcess]
    metrics_ports: dict[str, int]
    components: dict[str, str]  # process name -> component of docs/metrics.md
    started: float = field(default_factory=time.time)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "STOCKWATCH_LOG_FORMAT": "json", **extra}


def _start(process: ManagedProcess, port: int, timeout: float = 90.0) -> None:
    import httpx

    def serving() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    process.start()
    process.wait_ready(serving, timeout)


WS_SYMBOLS = ("NVDA", "AMZN")
# What the run must show besides panels with data (test_data_flows_end_to_end asserts them; the fixture waits for them).
FLOW_CHECKS = (
    'sum by (watchlist) (stockwatch_quotes_published_total{job="stockwatch-producer"}) > 0',
    "sum by (symbol) (stockwatch_loader_rows_loaded_total) > 0",
    "sum(increase(stockwatch_loader_rows_loaded_total[1m])) > 0",  # still loading, not only the first batch
    "sum by (reason_class) (increase(stockwatch_loader_dlq_messages_total[5m])) > 0",
    'sum(stockwatch_api_rate_limited_total{watchlist="finnhub"}) > 0',
    'sum(stockwatch_zero_quotes_total{symbol="ZZZZ"}) > 0',
    'sum(stockwatch_quotes_failed_total{reason="fetch_error"}) > 0',
    "sum(increase(stockwatch_ws_reconnects_total[5m])) > 0",
    'sum(stockwatch_quotes_published_total{watchlist="websocket"}) > 0',
    'sum(stockwatch_quotes_fetched_total{source="finnhub-rest"}) > 0',
    'sum(stockwatch_quotes_fetched_total{source="finnhub-ws"}) > 0',
    'sum(stockwatch_operator_reconciles_total{result="success"}) > 0',
)


def _finnhub() -> FinnhubServer:
    """The local Finnhub-speaking server (Finnhub itself is out of reach here), scripted so the producer's REST path
    meets what production meets: a 429 every fourth AAPL call, an unknown symbol (all-zero quotes), a 500ing one."""
    finnhub = FinnhubServer(prices={"AAPL": 190.0, "MSFT": 410.0, "NVDA": 880.0, "AMZN": 185.0}).start()
    every_fourth_limited: list[str | tuple[str, float]] = ["ok", "ok", "ok", ("429", 1.0)]
    finnhub.plan("AAPL", *(every_fourth_limited * 2000))
    finnhub.plan("ERRX", *(["500"] * 10000))
    return finnhub


def _feed_websocket(finnhub: FinnhubServer, stop: threading.Event) -> None:
    """Trades for the websocket producer twice a second; every 10 s the server drops its clients, as Finnhub does
    on deployments, so reconnects and gaps are real too. Paced by `stop.wait`, it ends with the fixture."""
    ticks = 0
    while not stop.wait(0.5):
        ticks += 1
        for symbol in WS_SYMBOLS:
            finnhub.push(finnhub.trades(symbol, 1))
        if ticks % 20 == 0:
            finnhub.drop_clients()


def _dead_letters(kafka: KafkaSettings) -> None:
    """Messages that break the contract: the loader must route them to the DLQ (and count them)."""
    producer = Producer(kafka.client_config())
    for index in range(3):
        producer.produce(kafka.topic, key=b"BAD", value=b"this is not json %d" % index)
        producer.produce(kafka.topic, key=b"BAD", value=b'{"schema_version": 1, "symbol": "AAPL"}')
    assert producer.flush(30) == 0


@pytest.fixture(scope="module")
def pipeline(
    kafka_broker: LocalKafka,
    fakesnow_server: LocalFakesnow,
    kube_apiserver: KubeAPIServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("observability")
    kafka = fresh_topics(kafka_broker.bootstrap_servers, "obs")
    suffix = kafka.topic.rsplit("_", 1)[1]
    kafka_env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_TOPIC": kafka.topic,
        "KAFKA_DLQ_TOPIC": kafka.dlq_topic,
        "KAFKA_GROUP_ID": kafka.group_id,
    }
    snowflake_env = {**fakesnow_server.env(), "SNOWFLAKE_DATABASE": f"STOCKS_FIN_OBS_{suffix.upper()}"}
    with pytest.MonkeyPatch.context() as env:
        for key, value in snowflake_env.items():
            env.setenv(key, value)
        from stockwatch.config import SnowflakeSettings

        init_warehouse(SnowflakeSettings())

    finnhub = _finnhub()
    feeder = threading.Thread(target=_feed_websocket, args=(finnhub, stop := threading.Event()), daemon=True)
    feeder.start()
    names = ("producer-synthetic", "producer-finnhub", "producer-websocket", "loader", "operator")
    ports = {name: free_port() for name in names}
    processes: dict[str, ManagedProcess] = {
        "producer-synthetic": ManagedProcess(
            "producer-synthetic",
            [STOCKWATCH, "produce", "--tick-seconds", "0.5", "--metrics-port", str(ports["producer-synthetic"])],
            workdir / "producer-synthetic.log",
            _env(**kafka_env, STOCKS="AAPL MSFT NVDA TSLA", STOCKWATCH_SOURCE="synthetic"),
        ),
        "producer-finnhub": ManagedProcess(
            "producer-finnhub",
            [STOCKWATCH, "produce", "--metrics-port", str(ports["producer-finnhub"])],
            workdir / "producer-finnhub.log",
            _env(
                **kafka_env,
                STOCKS="AAPL MSFT ZZZZ ERRX",
                STOCKWATCH_SOURCE="finnhub-rest",
                STOCKWATCH_POLL_INTERVAL_SECONDS="1",
                FINNHUB_API_KEY=finnhub.token,
                FINNHUB_BASE_URL=finnhub.base_url,
            ),
        ),
        "producer-websocket": ManagedProcess(
            "producer-websocket",
            [STOCKWATCH, "produce", "--metrics-port", str(ports["producer-websocket"])],
            workdir / "producer-websocket.log",
            _env(
                **kafka_env,
                STOCKS=" ".join(WS_SYMBOLS),
                STOCKWATCH_SOURCE="finnhub-ws",
                FINNHUB_API_KEY=finnhub.token,
                FINNHUB_WS_URL=finnhub.ws_url,
            ),
        ),
        "loader": ManagedProcess(
            "loader",
            [STOCKWATCH, "load", "--follow", "--flush-seconds", "1", "--metrics-port", str(ports["loader"])],
            workdir / "loader.log",
            _env(**kafka_env, **snowflake_env),
        ),
        "operator": ManagedProcess(
            "operator",
            [sys.executable, "-m", "kopf", "run", "-m", "stockwatch_operator.main", "--all-namespaces", "--standalone"],
            workdir / "operator.log",
            _env(
                KUBECONFIG=str(kube_apiserver.kubeconfig),
                STOCKWATCH_OPERATOR_METRICS_PORT=str(ports["operator"]),
                STOCKWATCH_RECONCILE_INTERVAL_SECONDS="1",
            ),
        ),
    }
    components = {name: name.split("-")[0] for name in processes}
    jobs = {
        "stockwatch-producer": [
            Target(
                f"127.0.0.1:{ports['producer-synthetic']}",
                {"namespace": "local", "watchlist": "synthetic", "pod": "producer-synthetic"},
            ),
            Target(
                f"127.0.0.1:{ports['producer-finnhub']}",
                {"namespace": "local", "watchlist": "finnhub", "pod": "producer-finnhub"},
            ),
            Target(
                f"127.0.0.1:{ports['producer-websocket']}",
                {"namespace": "local", "watchlist": "websocket", "pod": "producer-websocket"},
            ),
        ],
        "stockwatch-loader": [Target(f"127.0.0.1:{ports['loader']}", {"namespace": "local", "pod": "loader"})],
        "stockwatch-operator": [Target(f"127.0.0.1:{ports['operator']}", {"namespace": "local", "pod": "operator"})],
    }
    prometheus = LocalPrometheus(workdir / "prometheus", jobs, rule_files())
    namespace = f"obs-{suffix}"
    try:
        for name, process in processes.items():
            _start(process, ports[name])
        kube_apiserver.kubectl("create", "namespace", namespace)
        kube_apiserver.kubectl("apply", "-n", namespace, "-f", str(OPERATOR_EXAMPLE))
        prometheus.start()
        data = Pipeline(prometheus, processes, ports, components)
        _wait_for_targets(data)
        # Dead letters in two rounds after the first scrapes: a counter series is born at its first value, so only
        # the second round shows as an increase (what the DLQ panel and alert look at).
        _dead_letters(kafka)
        counted = 'sum(stockwatch_loader_dlq_messages_total{job="stockwatch-loader"}) >= 6'
        wait_for(lambda: bool(prometheus.query(counted)), 120, "the loader to count the dead letters", interval=0.5)
        _dead_letters(kafka)
        _wait_for_data(data)
        yield data
    finally:
        prometheus.stop()
        # Leave no watchlist behind for the suites that share the session's API server: delete it while the
        # operator still runs, so kopf releases its finalizer.
        kube_apiserver.kubectl(
            "delete", "-n", namespace, "-f", str(OPERATOR_EXAMPLE), "--ignore-not-found", "--timeout=60s", check=False
        )
        for process in processes.values():
            process.stop()
        stop.set()
        feeder.join(10)
        finnhub.stop()


def _check_running(pipeline: Pipeline) -> None:
    for name, process in pipeline.processes.items():
        if not process.running:
            raise RuntimeError(f"{name} exited; log:\n{process.log_tail()}")


def _wait_for_targets(pipeline: Pipeline) -> None:
    """Until Prometheus has scraped every process successfully."""

    def targets_up() -> bool:
        _check_running(pipeline)
        targets = pipeline.prometheus.targets()
        return len(targets) == len(pipeline.processes) and all(t["health"] == "up" for t in targets)

    wait_for(targets_up, 60, "every scrape target to be up", interval=0.5)


def _wait_for_data(pipeline: Pipeline, timeout: float = 180.0) -> None:
    """Until every dashboard panel has data and the dead letters are counted (or the timeout: the tests then say
    what lacks). `STOCKWATCH_DASHBOARDS_SECONDS` (make dashboards-png) keeps data flowing longer for the pictures."""
    from observability.checks import panel_problems

    prometheus = pipeline.prometheus
    panels = [panel for dashboard in DASHBOARDS for panel in dashboard.panels()]

    hold = float(os.environ.get("STOCKWATCH_DASHBOARDS_SECONDS", "0"))

    def ready() -> bool:
        _check_running(pipeline)
        if time.time() - pipeline.started < hold:
            return False
        if not all(prometheus.query(expr) for expr in FLOW_CHECKS):
            return False
        return not any(panel_problems(prometheus, panel) for panel in panels)

    try:
        wait_for(ready, timeout + hold, "every dashboard panel to have data", interval=2.0)
    except TimeoutError:
        return  # test_prometheus names the panels without data
