"""The failure callback: an Alertmanager v2 alert body, and a delivery failure that never fails the task again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from stockwatch_airflow.alerts import ALERT_NAME, alert_payload, notify_failure, notify_run_failure

from stockwatch.local.process import free_port

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _context(exc: BaseException | None) -> dict[str, object]:
    ti = SimpleNamespace(
        dag_id="stock_data_ingestion_snowflake", task_id="load_raw", try_number=2, log_url="http://x/l"
    )
    return {"ti": ti, "run_id": "scheduled__2026-11-25T15:00:00+00:00", "exception": exc}


def test_alertmanager_v2_body() -> None:
    (alert,) = alert_payload(_context(RuntimeError("broker down\nstack details")), now=NOW)
    assert alert["labels"] == {
        "alertname": ALERT_NAME,
        "severity": "warning",
        "dag_id": "stock_data_ingestion_snowflake",
        "task_id": "load_raw",
        "app_kubernetes_io_part_of": "stockwatch",
    }
    assert (
        alert["annotations"]["summary"] == "stock_data_ingestion_snowflake.load_raw failed: RuntimeError: broker down"
    )
    assert alert["annotations"]["try_number"] == "2"
    assert alert["startsAt"] == "2026-11-25T15:00:00+00:00"
    assert alert["endsAt"] == "2026-11-25T16:00:00+00:00"


def test_no_exception_still_makes_an_alert() -> None:
    (alert,) = alert_payload(_context(None), now=NOW)
    assert alert["annotations"]["summary"].endswith("failed: unknown error")


def test_a_failed_dag_run_makes_an_alert_with_its_reason() -> None:
    # The DAG-level callback's context: no task instance, the run's reason (a run past dagrun_timeout).
    context = {"dag": SimpleNamespace(dag_id="stock_data_ingestion_snowflake"), "run_id": "r1", "reason": "timed_out"}
    (alert,) = alert_payload(context, now=NOW)
    assert alert["labels"]["task_id"] == "dag_run"
    assert alert["annotations"]["summary"] == "stock_data_ingestion_snowflake.dag_run failed: timed_out"


def test_the_run_callback_alerts_only_when_no_task_did(caplog: pytest.LogCaptureFixture) -> None:
    dag = SimpleNamespace(dag_id="stock_data_ingestion_snowflake")
    with caplog.at_level(logging.ERROR, logger="stockwatch_airflow.alerts"):
        # A task failed (its own callback alerted): the run's callback stays quiet.
        notify_run_failure({**_context(RuntimeError("boom")), "dag": dag, "reason": "task_failure"})
        assert not caplog.records
        notify_run_failure({**_context(None), "dag": dag, "reason": "timed_out"})
    (record,) = caplog.records
    assert '"task_id": "dag_run"' in record.getMessage() and "failed: timed_out" in record.getMessage()


def test_unreachable_alertmanager_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("STOCKWATCH_ALERTMANAGER_URL", f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.INFO, logger="stockwatch_airflow.alerts"):
        notify_failure(_context(RuntimeError("boom")))
    messages = [record.getMessage() for record in caplog.records]
    assert any(ALERT_NAME in message for message in messages)
    assert any(message.startswith("could not send the alert") for message in messages)
