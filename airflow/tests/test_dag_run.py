"""Real runs of the ingestion DAG (`dag.test()` on SQLite) against the local Kafka broker and the fakesnow server.

Kafka settings reach the DAG through the Airflow connection `stockwatch_kafka` (`AIRFLOW_CONN_*`), Snowflake's
through the `SNOWFLAKE_*` environment the fakesnow fixture sets: both configuration paths run for real.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.models.dagrun import DagRun
from airflow.models.variable import Variable
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from confluent_kafka import Producer
from conftest import DAG_ID

from stockwatch.config import DEFAULT_SYMBOLS, KafkaSettings, SnowflakeSettings
from stockwatch.events import MarketEvent, event_id
from stockwatch.warehouse import connect, raw_count

pytestmark = [pytest.mark.kafka, pytest.mark.warehouse, pytest.mark.slow]

HISTORY_VARIABLE = f"{DAG_ID}__history"
FAULT_ENV = "STOCKWATCH_FAULT_INJECT"  # the loader's test-only fault point (stockwatch.loader.FAULT_ENV)

RunDag = Callable[[], DagRun]


def make_events(count: int, event_time: datetime) -> list[MarketEvent]:
    batch = uuid.uuid4().hex
    events = []
    for i in range(count):
        symbol = DEFAULT_SYMBOLS[i % len(DEFAULT_SYMBOLS)]
        when = event_time + timedelta(milliseconds=i)
        events.append(
            MarketEvent(
                event_id=event_id(batch, symbol, i),
                event_type="quote",
                symbol=symbol,
                price=100.0 + i % 50,
                event_time=when,
                ingest_time=when,
                source="synthetic",
            )
        )
    return events


def produce(settings: KafkaSettings, events: list[MarketEvent]) -> None:
    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    producer = Producer({**settings.client_config(), "enable.idempotence": True})
    for event in events:
        producer.produce(settings.topic, key=event.key, value=event.to_json(), on_delivery=delivered)
    assert producer.flush(30) == 0, "messages still in flight after 30 s"
    assert errors == []


def distinct_event_ids(settings: SnowflakeSettings) -> int:
    with connect(settings) as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(DISTINCT EVENT_ID) FROM {settings.raw_table}")
        row = cur.fetchone()
        return int(row[0])


def task_states(run: DagRun) -> dict[str, str | None]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def xcom(run: DagRun, task_id: str) -> Any:
    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, dag_ids=DAG_ID, task_ids=task_id, key="return_value")
        ).first()
        assert row is not None, f"no XCom from {task_id}"
        return XComModel.deserialize_value(row)


@pytest.fixture
def run_dag(
    airflow_db: object, dagbag: DagBag, kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RunDag]:  # fmt: skip
    """One `dag.test()` run per call, on this test's topic, consumer group and warehouse database."""
    extra = {"topic": kafka_settings.topic, "dlq_topic": kafka_settings.dlq_topic, "group_id": kafka_settings.group_id}
    conn = {"conn_type": "kafka", "extra": {"bootstrap_servers": kafka_settings.bootstrap_servers, **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_STOCKWATCH_KAFKA", json.dumps(conn))
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC", "KAFKA_DLQ_TOPIC", "KAFKA_GROUP_ID", FAULT_ENV):
        monkeypatch.delenv(key, raising=False)
    Variable.delete(HISTORY_VARIABLE)
    dag = dagbag.dags[DAG_ID]

    def run() -> DagRun:
        result: DagRun = dag.test(run_conf={"max_seconds": 5.0})
        return result

    yield run
    Variable.delete(HISTORY_VARIABLE)


def test_n_events_land_exactly_once_and_a_second_run_adds_nothing(
    run_dag: RunDag, kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings
) -> None:
    events = make_events(250, datetime.now(UTC) - timedelta(minutes=1))
    produce(kafka_settings, events)

    first = run_dag()
    assert task_states(first) == dict.fromkeys(("load_raw", "record_statistics", "data_quality_check"), "success")
    assert first.state == "success"
    assert raw_count(snowflake_settings) == 250
    stats = xcom(first, "load_raw")
    assert stats["rows_loaded"] == 250
    assert stats["dlq_count"] == 0
    assert sum(stats["rows_by_symbol"].values()) == 250
    assert set(stats["rows_by_symbol"]) == set(DEFAULT_SYMBOLS)
    assert len(json.dumps(stats)) < 2_000, "only small values go through XCom"

    second = run_dag()
    assert second.state == "success"
    assert xcom(second, "load_raw")["rows_loaded"] == 0
    assert raw_count(snowflake_settings) == 250
    history = Variable.get(HISTORY_VARIABLE, deserialize_json=True)
    assert [entry["rows_loaded"] for entry in history] == [250, 0]


def test_retry_after_a_crash_between_warehouse_commit_and_offset_commit_adds_nothing_twice(
    run_dag: RunDag, dagbag: DagBag, kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The first try of load_raw dies after the warehouse commit, before the offset commit; Airflow retries it."""
    events = make_events(120, datetime.now(UTC) - timedelta(minutes=1))
    produce(kafka_settings, events)
    rows_after_crash: list[int] = []

    def crash_once(_context: object) -> None:
        """Runs when Airflow schedules the retry: the crashed try has committed RAW, not the offsets."""
        rows_after_crash.append(raw_count(snowflake_settings))
        os.environ.pop(FAULT_ENV, None)

    monkeypatch.setenv(FAULT_ENV, "after_warehouse_commit")
    monkeypatch.setattr(dagbag.dags[DAG_ID].get_task("load_raw"), "on_retry_callback", [crash_once])

    run = run_dag()
    assert run.state == "success"
    load = next(ti for ti in run.get_task_instances() if ti.task_id == "load_raw")
    assert load.try_number == 2, "the first try crashed and the retry loaded"
    assert rows_after_crash == [120], "the crash came after the warehouse commit"
    assert xcom(run, "load_raw")["rows_loaded"] == 0, "the redelivered batch merged into nothing new"
    assert raw_count(snowflake_settings) == 120
    assert distinct_event_ids(snowflake_settings) == 120

    again = run_dag()
    assert again.state == "success"
    assert xcom(again, "load_raw")["rows_loaded"] == 0, "the retry committed the offsets"
    assert raw_count(snowflake_settings) == 120


def test_quality_check_fails_the_run_when_raw_is_stale(
    run_dag: RunDag, kafka_settings: KafkaSettings, snowflake_settings: SnowflakeSettings,
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    produce(kafka_settings, make_events(30, datetime.now(UTC) - timedelta(hours=3)))

    run = run_dag()
    states = task_states(run)
    assert states["load_raw"] == "success"
    assert states["data_quality_check"] == "failed"
    assert run.state == "failed"
    assert raw_count(snowflake_settings) == 30
    out = capfd.readouterr()
    assert "data-quality check failed: RAW is stale" in out.out + out.err
    alerts = [r.getMessage() for r in caplog.records if r.name == "stockwatch_airflow.alerts"]
    assert len(alerts) == 1, "the failure callback ran once"
    assert '"alertname": "StockwatchIngestionFailed"' in alerts[0]
    assert '"task_id": "data_quality_check"' in alerts[0]
    assert "RAW is stale" in alerts[0]


def test_quality_check_fails_on_a_row_count_drop(
    run_dag: RunDag, kafka_settings: KafkaSettings, capfd: pytest.CaptureFixture[str]
) -> None:
    history = [{"run_id": f"earlier_{i}", "rows_loaded": 1000, "at": ""} for i in range(8)]
    Variable.set(HISTORY_VARIABLE, history, serialize_json=True)
    produce(kafka_settings, make_events(20, datetime.now(UTC)))

    run = run_dag()
    assert task_states(run)["data_quality_check"] == "failed"
    out = capfd.readouterr()
    assert "row-count drop: 20 rows loaded against a median of 1000 over the last 8 runs" in out.out + out.err
