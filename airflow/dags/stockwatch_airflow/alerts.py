"""The DAG's on-failure callback: one structured log line, and an Alertmanager alert when configured.

Set `STOCKWATCH_ALERTMANAGER_URL` (e.g. `http://alertmanager-operated.monitoring:9093`) and a failed task
posts an alert `StockwatchIngestionFailed` to `/api/v2/alerts`, labelled with dag, task and severity,
so the cluster's existing routes (Slack, PagerDuty, ...) pick it up. The alert never carries settings
or secrets: only ids, the exception's type and first line, and the log URL.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

ALERT_NAME = "StockwatchIngestionFailed"


def _summary(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:500]}" if first else type(exc).__name__


def alert_payload(context: dict[str, Any] | Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """The Alertmanager v2 body for a failed task instance or DAG run (an alert that resolves itself after an hour).

    A DAG-level callback has no task instance: the task label is `dag_run` and the summary carries the
    run's failure reason (e.g. `timed_out`).
    """
    now = now or datetime.now(UTC)
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "unknown")
    task_id = getattr(ti, "task_id", None) or "dag_run"
    exc = context.get("exception")
    reason = context.get("reason")
    return [
        {
            "labels": {
                "alertname": ALERT_NAME,
                "severity": os.environ.get("STOCKWATCH_ALERT_SEVERITY", "warning"),
                "dag_id": str(dag_id),
                "task_id": str(task_id),
                "app_kubernetes_io_part_of": "stockwatch",
            },
            "annotations": {
                "summary": f"{dag_id}.{task_id} failed: {_summary(exc) if exc or not reason else reason}",
                "run_id": str(context.get("run_id", "")),
                "try_number": str(getattr(ti, "try_number", "")),
                "log_url": str(getattr(ti, "log_url", "") or ""),
            },
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
    ]


def notify_failure(context: Any) -> None:
    """`on_failure_callback`: log the failure; post it to Alertmanager if `STOCKWATCH_ALERTMANAGER_URL` is set.

    A callback must not fail the task a second time: delivery errors are logged, not raised.
    """
    payload = alert_payload(context)
    log.error("stockwatch ingestion failure: %s", json.dumps(payload[0]["labels"] | payload[0]["annotations"]))
    base = os.environ.get("STOCKWATCH_ALERTMANAGER_URL", "").rstrip("/")
    if not base:
        return
    import httpx

    try:
        response = httpx.post(f"{base}/api/v2/alerts", json=payload, timeout=10.0)
        response.raise_for_status()
        log.info("alert sent to Alertmanager (HTTP %s)", response.status_code)
    except httpx.HTTPError as exc:
        log.warning("could not send the alert to %s: %s", base, exc)


def notify_run_failure(context: Any) -> None:
    """DAG-level `on_failure_callback`: alert for a run that failed without a failing task (past `dagrun_timeout`).

    A run that failed because a task failed was already alerted by that task's `notify_failure`: no second alert.
    """
    if context.get("reason") == "task_failure":
        return
    notify_failure({**context, "ti": None, "task_instance": None})
