"""Kafka `stock_prices` -> Snowflake `STOCKS_FIN.RAW_STOCKS.STOCK_PRICES`, one bounded micro-batch per run.

**load_raw** calls `stockwatch.loader.load_batch`: it reads at most `max_records` messages or `max_seconds`,
sends invalid ones to the DLQ, MERGEs the rest into RAW on `EVENT_ID` and commits the Kafka offsets only
after the warehouse commit, so a retry (or a crash anywhere) redelivers and adds nothing twice.
**record_statistics** logs rows per symbol, consumer lag and DLQ count and keeps a short rolling history
of row counts (Airflow Variable `stock_data_ingestion_snowflake__history`).
**data_quality_check** fails the run with a clear message when RAW is stale or empty, or when this run's row
count is far off the median of recent runs.

Settings: Airflow connections `stockwatch_kafka` and `stockwatch_snowflake`, each field overridable by the
`KAFKA_*` / `SNOWFLAKE_*` environment variables; the schedule by `STOCKWATCH_INGESTION_SCHEDULE`
(default every 5 minutes); thresholds by the run parameters below (defaults from `STOCKWATCH_*` variables).
A failed task calls `notify_failure` (log line + Alertmanager alert when `STOCKWATCH_ALERTMANAGER_URL` is set); a
run that fails without a failing task (past `dagrun_timeout`) alerts through `notify_run_failure` — once, not twice.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task
from stockwatch_airflow.alerts import notify_failure, notify_run_failure

DAG_ID = "stock_data_ingestion_snowflake"
HISTORY_VARIABLE = f"{DAG_ID}__history"
log = logging.getLogger(DAG_ID)
SCHEDULE = os.environ.get("STOCKWATCH_INGESTION_SCHEDULE", "*/5 * * * *")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return value in ("1", "true", "yes", "on") if value else default


@dag(
    dag_id=DAG_ID,
    description="Load one bounded batch of quotes from Kafka into Snowflake RAW, then check its quality",
    doc_md=__doc__,
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=30),
    on_failure_callback=notify_run_failure,
    tags=["stockwatch", "kafka", "snowflake", "ingestion"],
    default_args={
        "owner": "stockwatch",
        "retries": int(_env_number("STOCKWATCH_INGESTION_RETRIES", 3)),
        "retry_delay": timedelta(seconds=_env_number("STOCKWATCH_INGESTION_RETRY_DELAY_SECONDS", 30)),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=15),
        "on_failure_callback": notify_failure,
    },
    params={
        "max_records": Param(
            int(_env_number("STOCKWATCH_BATCH_MAX_RECORDS", 50_000)), type="integer", minimum=1,
            description="Most messages one run loads",
        ),
        "max_seconds": Param(
            _env_number("STOCKWATCH_BATCH_MAX_SECONDS", 30.0), type="number", exclusiveMinimum=0,
            description="Longest one run reads from Kafka",
        ),
        "max_staleness_minutes": Param(
            _env_number("STOCKWATCH_DQ_MAX_STALENESS_MINUTES", 30.0), type="number", exclusiveMinimum=0,
            description="Fail when the newest EVENT_TIME in RAW is older than this",
        ),
        "market_hours_only": Param(
            _env_flag("STOCKWATCH_DQ_MARKET_HOURS_ONLY", False), type="boolean",
            description="Check freshness and row counts only during US market hours (for Finnhub sources)",
        ),
        "history_runs": Param(int(_env_number("STOCKWATCH_DQ_HISTORY_RUNS", 12)), type="integer", minimum=1),
        "drop_ratio": Param(_env_number("STOCKWATCH_DQ_DROP_RATIO", 0.2), type="number", minimum=0),
        "spike_ratio": Param(_env_number("STOCKWATCH_DQ_SPIKE_RATIO", 5.0), type="number", minimum=1),
    },
)  # fmt: skip
def stock_data_ingestion_snowflake() -> None:
    @task
    def load_raw() -> dict[str, Any]:
        """One bounded batch Kafka -> RAW; returns small statistics (the rows stay out of XCom)."""
        from stockwatch_airflow.connections import kafka_settings, snowflake_settings

        from stockwatch.loader import load_batch

        params = get_current_context()["params"]
        result = load_batch(
            kafka_settings(),
            snowflake_settings(),
            max_records=int(params["max_records"]),
            max_seconds=float(params["max_seconds"]),
        )
        return {
            "rows_loaded": result.rows_loaded,
            "rows_by_symbol": dict(sorted(result.rows_by_symbol.items())),
            "dlq_count": result.dlq_count,
            "consumer_lag": result.consumer_lag,
            "max_event_time": result.max_event_time.isoformat() if result.max_event_time else None,
            "duration_seconds": round(result.duration_seconds, 3),
        }

    @task
    def record_statistics(stats: dict[str, Any]) -> dict[str, Any]:
        """Log the batch statistics and append this run's row count to the rolling history."""
        from airflow.sdk import Variable
        from stockwatch_airflow.quality import append_history

        context = get_current_context()
        for symbol, rows in stats["rows_by_symbol"].items():
            log.info("rows loaded %-8s %8d", symbol, rows)
        log.info(
            "rows loaded %d, DLQ %d, consumer lag %d messages, newest event %s, %.1f s",
            stats["rows_loaded"], stats["dlq_count"], stats["consumer_lag"], stats["max_event_time"],
            stats["duration_seconds"],
        )  # fmt: skip
        entry = {"run_id": context["run_id"], "rows_loaded": stats["rows_loaded"], "at": datetime.now(UTC).isoformat()}
        history = Variable.get(HISTORY_VARIABLE, default=[], deserialize_json=True)
        history = append_history(history, entry, keep=int(context["params"]["history_runs"]) + 1)
        Variable.set(HISTORY_VARIABLE, history, serialize_json=True, description=f"Recent row counts of {DAG_ID}")
        return {key: stats[key] for key in ("rows_loaded", "dlq_count", "consumer_lag", "max_event_time")}

    @task(retries=0)
    def data_quality_check(summary: dict[str, Any]) -> None:
        """Fail the run when RAW is stale or empty, or this run's row count is anomalous."""
        from airflow.sdk import Variable
        from airflow.sdk.exceptions import AirflowFailException
        from stockwatch_airflow.connections import snowflake_settings
        from stockwatch_airflow.quality import QualityPolicy, quality_problems, raw_freshness

        context = get_current_context()
        fresh = raw_freshness(snowflake_settings())
        history = Variable.get(HISTORY_VARIABLE, default=[], deserialize_json=True)
        previous = [int(item["rows_loaded"]) for item in history if item.get("run_id") != context["run_id"]]
        policy = QualityPolicy.from_params(context["params"])
        problems = quality_problems(fresh, summary["rows_loaded"], previous, policy, datetime.now(UTC))
        if problems:
            raise AirflowFailException("data-quality check failed: " + "; ".join(problems))
        log.info("data quality ok: %d rows in RAW, newest %s", fresh.rows, fresh.newest_event_time)

    # TaskFlow passes XComArgs where the functions declare their resolved values.
    data_quality_check(record_statistics(load_raw()))  # type: ignore[arg-type]


stock_data_ingestion_snowflake()
