"""Drift detection, conditions, settings, model and CLI defaults (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from stockwatch_operator.__main__ import arguments
from stockwatch_operator.builders import build_configmap, build_deployments
from stockwatch_operator.conditions import Condition, merge, status_of
from stockwatch_operator.drift import contains
from stockwatch_operator.handlers.handle_children import owner, why_reconcile
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings
from swl_testlib import as_body, example


def test_contains_ignores_server_defaults_but_sees_edits() -> None:
    desired = {"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "p", "image": "i:1"}]}}}}
    actual: dict[str, Any] = {
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": 600,
            "template": {"spec": {"containers": [{"name": "p", "image": "i:1", "terminationMessagePath": "/x"}]}},
        },
        "status": {"replicas": 1},
    }
    assert contains(desired, actual)
    actual["spec"]["replicas"] = 3
    assert not contains(desired, actual)
    actual["spec"]["replicas"] = 1
    actual["spec"]["template"]["spec"]["containers"][0]["image"] = "evil:latest"
    assert not contains(desired, actual)


def test_contains_matches_named_lists_by_name_and_plain_lists_exactly() -> None:
    desired = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "args": ["produce"]}
    assert contains(desired, {"env": [{"name": "B", "value": "2"}, {"name": "X"}, {"name": "A", "value": "1"}],
                              "args": ["produce"]})  # fmt: skip
    assert not contains(desired, {"env": [{"name": "A", "value": "1"}], "args": ["produce"]})
    assert not contains(desired, {"env": desired["env"], "args": ["produce", "--debug"]})


def test_condition_transition_time_moves_only_on_flip() -> None:
    first = merge([], [Condition("Ready", "False", "ProducersNotReady", "0/2")], 1, "T1")
    same = merge(first, [Condition("Ready", "False", "ProducersNotReady", "1/2")], 2, "T2")
    flipped = merge(same, [Condition("Ready", "True", "ProducersReady", "2/2")], 2, "T3")
    assert first[0]["lastTransitionTime"] == "T1"
    assert same[0]["lastTransitionTime"] == "T1"
    assert same[0]["message"] == "1/2"
    assert same[0]["observedGeneration"] == 2
    assert flipped[0]["lastTransitionTime"] == "T3"
    assert status_of(flipped, "Ready") == "True"
    assert status_of(flipped, "RateBudget") is None


def test_model_defaults_and_refusal() -> None:
    body = as_body({"metadata": {"name": "x"}, "spec": {"symbols": ["AAPL"]}})
    wl = Watchlist.from_body(body)
    assert wl.spec.source == "finnhub-rest"
    assert wl.spec.poll_interval_seconds == 15
    assert wl.spec.max_symbols_per_producer == 25
    assert wl.budget_key is None  # no secret -> nothing to budget (the CRD refuses this for finnhub sources)
    body["spec"]["symbols"] = []
    with pytest.raises(ValidationError):
        Watchlist.from_body(body)


def test_budget_key_is_namespace_secret_and_key() -> None:
    assert Watchlist.from_body(as_body(example("seed-rest"))).budget_key == ("team-a", "finnhub", "api-key")
    assert Watchlist.from_body(as_body(example("synthetic"))).budget_key is None


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOCKWATCH_PRODUCER_IMAGE", "r/p:9")
    monkeypatch.setenv("STOCKWATCH_REST_CALLS_PER_MINUTE", "300")
    monkeypatch.setenv("STOCKWATCH_RECONCILE_INTERVAL_SECONDS", "2.5")
    settings = OperatorSettings.from_env()
    assert settings.producer_image == "r/p:9"
    assert settings.rest_calls_per_minute == 300
    assert settings.reconcile_interval_seconds == 2.5
    monkeypatch.setenv("STOCKWATCH_REST_CALLS_PER_MINUTE", "zero")
    with pytest.raises(ValueError, match="STOCKWATCH_REST_CALLS_PER_MINUTE must be an integer"):
        OperatorSettings.from_env()


def test_cli_defaults_and_overrides() -> None:
    assert arguments([]) == [
        "run",
        "-m",
        "stockwatch_operator.main",
        "--all-namespaces",
        "--peering=stockwatch-operator",
        "--liveness=http://0.0.0.0:8081/healthz",
    ]
    custom = arguments(["--standalone", "-n", "team-a", "--liveness=http://127.0.0.1:9/x"])
    assert "--all-namespaces" not in custom
    assert "--peering=stockwatch-operator" not in custom
    assert custom[-1] == "--liveness=http://127.0.0.1:9/x"


def test_a_producer_event_reconciles_only_when_something_we_watch_changed() -> None:
    settings = OperatorSettings(producer_image="registry.example/sw/pipeline:1.2.3")
    wl = Watchlist.from_body(as_body(example("synthetic")))
    live: dict[str, Any] = {**build_deployments(wl, settings)[0], "status": {}}
    live["metadata"] = {**live["metadata"], "uid": "d-1", "generation": 1}
    assert owner(live) == wl.name
    assert why_reconcile("ADDED", live, wl, {}, settings) is None  # as applied, not ready: first sighting
    assert why_reconcile("MODIFIED", live, wl, {}, settings) is None  # e.g. the controller's status write
    edited = {**live, "spec": {**live["spec"], "replicas": 3}}
    assert why_reconcile("MODIFIED", edited, wl, {}, settings) == "differs from the watchlist"
    ready = {**live, "status": {"observedGeneration": 1, "readyReplicas": 1}}
    assert why_reconcile("MODIFIED", ready, wl, {}, settings) == "became ready"
    assert why_reconcile("MODIFIED", ready, wl, {}, settings) is None
    assert why_reconcile("MODIFIED", live, wl, {}, settings) == "is no longer ready"
    assert why_reconcile("DELETED", live, wl, {}, settings) == "deleted"
    stray = {**live, "metadata": {**live["metadata"], "name": f"{wl.name}-producer-99", "uid": "d-2"}}
    assert why_reconcile("MODIFIED", stray, wl, {}, settings) == "no longer wanted"
    applied = build_configmap(wl, settings)
    config: dict[str, Any] = {**applied, "metadata": {**applied["metadata"], "uid": "c-1"}}
    assert why_reconcile("MODIFIED", config, wl, {}, settings) is None
    edited_config = {**config, "data": {**config["data"], "KAFKA_TOPIC": "elsewhere"}}
    assert why_reconcile("MODIFIED", edited_config, wl, {}, settings) == "differs from the watchlist"
