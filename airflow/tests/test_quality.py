"""The data-quality rules, on numbers: freshness, market hours, row-count anomalies, the rolling history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from stockwatch_airflow.quality import (
    AnomalyRule,
    QualityPolicy,
    RawFreshness,
    append_history,
    freshness_problem,
    market_open,
    quality_problems,
    row_count_problem,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
RULE = AnomalyRule(min_history=3, drop_ratio=0.2, spike_ratio=5.0, min_baseline=10)


def test_fresh_raw_passes_and_stale_raw_says_by_how_much() -> None:
    fresh = RawFreshness(rows=10, newest_event_time=NOW - timedelta(minutes=5))
    assert freshness_problem(fresh, NOW, timedelta(minutes=30)) is None
    stale = RawFreshness(rows=10, newest_event_time=NOW - timedelta(minutes=90))
    problem = freshness_problem(stale, NOW, timedelta(minutes=30))
    assert problem is not None
    assert "RAW is stale" in problem
    assert "90.0 min ago" in problem
    assert "30 min" in problem


def test_empty_raw_is_a_problem() -> None:
    problem = freshness_problem(RawFreshness(rows=0, newest_event_time=None), NOW, timedelta(minutes=30))
    assert problem is not None
    assert "empty" in problem


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (NOW, True),
        (datetime(2026, 11, 25, 14, 29, tzinfo=UTC), False),  # 09:29 New York
        (datetime(2026, 11, 25, 20, 59, tzinfo=UTC), True),  # 15:59
        (datetime(2026, 11, 25, 21, 0, tzinfo=UTC), False),  # 16:00
        (datetime(2026, 7, 1, 13, 30, tzinfo=UTC), True),  # 09:30 summer time (UTC-4)
        (SATURDAY, False),
    ],
)
def test_market_hours(when: datetime, is_open: bool) -> None:
    assert market_open(when) is is_open


@pytest.mark.parametrize(
    ("rows", "history", "expected"),
    [
        (100, [100, 90, 110], None),
        (10, [100, 90, 110], "row-count drop"),
        (600, [100, 90, 110], "row-count spike"),
        (0, [100, 90], None),  # too little history to judge
        (0, [2, 3, 1], None),  # baseline too small to judge
        (20, [100, 100, 100, 100], None),  # exactly at the drop bound is fine
    ],
)
def test_row_count_anomaly(rows: int, history: list[int], expected: str | None) -> None:
    problem = row_count_problem(rows, history, RULE)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(expected)
        assert f"{rows} rows loaded against a median of 100" in problem


def test_history_keeps_the_newest_and_replaces_a_retried_run() -> None:
    history: list[dict[str, object]] = []
    for i in range(5):
        history = append_history(history, {"run_id": f"r{i}", "rows_loaded": i}, keep=3)
    assert [item["run_id"] for item in history] == ["r2", "r3", "r4"]
    history = append_history(history, {"run_id": "r3", "rows_loaded": 99}, keep=3)
    assert [(item["run_id"], item["rows_loaded"]) for item in history] == [("r2", 2), ("r4", 4), ("r3", 99)]


def test_policy_from_params_and_market_hours_only() -> None:
    params = {
        "max_staleness_minutes": 10,
        "market_hours_only": True,
        "history_runs": 4,
        "drop_ratio": 0.5,
        "spike_ratio": 3,
    }
    policy = QualityPolicy.from_params(params)
    assert policy.max_staleness == timedelta(minutes=10)
    assert policy.rule.drop_ratio == 0.5
    stale = RawFreshness(rows=5, newest_event_time=NOW - timedelta(hours=3))
    history = [1000] * 10
    assert quality_problems(stale, 1, history, policy, SATURDAY) == []
    problems = quality_problems(stale, 1, history, policy, NOW)
    assert [problem.split(":")[0] for problem in problems] == ["RAW is stale", "row-count drop"]
    assert "over the last 4 runs" in problems[1]
