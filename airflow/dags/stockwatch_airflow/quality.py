"""Data-quality checks of the ingestion DAG: RAW freshness and a row-count anomaly against recent runs.

The checks are pure functions of numbers (easy to reason about and to test); `raw_freshness` is the one
query. Each returns None when the data is fine, or a sentence that says what is wrong and by how much.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from stockwatch.config import SnowflakeSettings

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class RawFreshness:
    rows: int
    newest_event_time: datetime | None  # UTC


@dataclass(frozen=True)
class AnomalyRule:
    """Flag a run whose row count is below `drop_ratio` or above `spike_ratio` times the median of recent runs."""

    min_history: int = 6
    drop_ratio: float = 0.2
    spike_ratio: float = 5.0
    min_baseline: float = 10.0  # a median below this is too small to judge


def raw_freshness(settings: SnowflakeSettings) -> RawFreshness:
    """Row count and newest EVENT_TIME of RAW (TIMESTAMP_NTZ, stored in UTC)."""
    from stockwatch.warehouse import connect

    with connect(settings) as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*), MAX(EVENT_TIME) FROM {settings.raw_table}")
        row: Any = cur.fetchone()
    newest = row[1] if row else None
    if isinstance(newest, datetime) and newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return RawFreshness(rows=int(row[0]) if row else 0, newest_event_time=newest)


def market_open(now: datetime) -> bool:
    """US equity regular hours, Monday to Friday 09:30-16:00 New York time (exchange holidays not known)."""
    local = now.astimezone(NEW_YORK)
    return local.weekday() < 5 and time(9, 30) <= local.time() < time(16, 0)


def freshness_problem(fresh: RawFreshness, now: datetime, max_staleness: timedelta) -> str | None:
    """Why RAW is not fresh enough, or None."""
    if fresh.rows == 0 or fresh.newest_event_time is None:
        return "RAW is empty: no event has been loaded yet"
    age = now - fresh.newest_event_time
    if age <= max_staleness:
        return None
    return (
        f"RAW is stale: the newest EVENT_TIME is {fresh.newest_event_time.isoformat()}, "
        f"{age.total_seconds() / 60:.1f} min ago, more than the allowed {max_staleness.total_seconds() / 60:.0f} min"
    )


def row_count_problem(rows_loaded: int, history: list[int], rule: AnomalyRule) -> str | None:
    """Why this run's row count is anomalous against the previous runs' counts, or None."""
    if len(history) < rule.min_history:
        return None
    baseline = statistics.median(history)
    if baseline < rule.min_baseline:
        return None
    where = f"{rows_loaded} rows loaded against a median of {baseline:g} over the last {len(history)} runs"
    if rows_loaded < rule.drop_ratio * baseline:
        return f"row-count drop: {where} (below {rule.drop_ratio:g}x)"
    if rows_loaded > rule.spike_ratio * baseline:
        return f"row-count spike: {where} (above {rule.spike_ratio:g}x)"
    return None


def append_history(history: list[dict[str, Any]], entry: dict[str, Any], keep: int) -> list[dict[str, Any]]:
    """The rolling record of recent runs: `entry` replaces an earlier one of the same run_id, newest last."""
    kept = [item for item in history if item.get("run_id") != entry.get("run_id")]
    return [*kept, entry][-keep:]


@dataclass(frozen=True)
class QualityPolicy:
    """The thresholds of one run's data-quality check (from the DAG's run parameters)."""

    max_staleness: timedelta = timedelta(minutes=30)
    market_hours_only: bool = False
    history_runs: int = 12
    rule: AnomalyRule = AnomalyRule()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> QualityPolicy:
        history_runs = int(params["history_runs"])
        rule = AnomalyRule(
            min_history=min(AnomalyRule.min_history, history_runs),
            drop_ratio=float(params["drop_ratio"]),
            spike_ratio=float(params["spike_ratio"]),
        )
        return cls(
            max_staleness=timedelta(minutes=float(params["max_staleness_minutes"])),
            market_hours_only=bool(params["market_hours_only"]),
            history_runs=history_runs,
            rule=rule,
        )


def quality_problems(
    fresh: RawFreshness, rows_loaded: int, previous_rows: list[int], policy: QualityPolicy, now: datetime
) -> list[str]:
    """Every problem found (empty when the data is fine). Off market hours, with `market_hours_only`, none."""
    if policy.market_hours_only and not market_open(now):
        return []
    problems = [
        freshness_problem(fresh, now, policy.max_staleness),
        row_count_problem(rows_loaded, previous_rows[-policy.history_runs :], policy.rule),
    ]
    return [problem for problem in problems if problem]
