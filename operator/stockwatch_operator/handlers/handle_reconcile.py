"""Level-based reconcile: compute the desired children, compare with what exists, converge, report.

The same function runs on create, update, resume (operator start) and from the repair timer, so a
deleted or edited child comes back and an operator restart converges to the same state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from stockwatch_operator import builders, conditions, kube, metrics
from stockwatch_operator.budget import BudgetEntry, Verdict, assess
from stockwatch_operator.drift import drifted
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings

Obj = dict[str, Any]
BudgetIndex = Mapping[tuple[str, str, str], Iterable[BudgetEntry]]
# Order matters: the topic and the ConfigMap exist before the producers that use them.
ORDER = (kube.KAFKATOPIC, kube.CONFIGMAP, kube.DEPLOYMENT, kube.PODMONITOR)
MISSING_CRD_HINT = {
    "KafkaTopic": "install Strimzi (kafka.strimzi.io/v1 KafkaTopic) or remove spec.topic",
    "PodMonitor": "install the prometheus-operator CRDs or set spec.podMonitor.enabled: false",
}


@dataclass
class Outcome:
    """What one pass did, for events and status."""

    actions: list[tuple[str, str]] = field(default_factory=list)  # (reason, message)
    deployments: list[Obj] = field(default_factory=list)


def desired_objects(watchlist: Watchlist, settings: OperatorSettings, within_budget: bool) -> list[Obj]:
    objects: list[Obj] = []
    topic = builders.build_kafkatopic(watchlist, settings)
    if topic is not None:
        objects.append(topic)
    objects.append(builders.build_configmap(watchlist, settings))
    objects.extend(builders.build_deployments(watchlist, settings, within_budget=within_budget))
    if watchlist.spec.pod_monitor.enabled:
        objects.append(builders.build_podmonitor(watchlist))
    return objects


def _owned_by(obj: Obj, watchlist: Watchlist) -> bool:
    return any(ref.get("uid") == watchlist.uid for ref in obj.get("metadata", {}).get("ownerReferences", []))


def converge(watchlist: Watchlist, desired: list[Obj]) -> Outcome:
    """Create what is missing, re-apply what drifted, delete what is no longer wanted (only our own)."""
    outcome = Outcome()
    selector = builders.child_selector(watchlist)
    for kind in ORDER:
        wanted = [obj for obj in desired if obj["kind"] == kind.kind]
        actual = kube.list_children(kind, watchlist.namespace, selector)
        if actual is None:
            if wanted:
                raise kopf.TemporaryError(
                    f"{kind.kind} ({kind.api_version}) is not served by this cluster: {MISSING_CRD_HINT[kind.kind]}",
                    delay=60,
                )
            continue
        existing = {obj["metadata"]["name"]: obj for obj in actual}
        for obj in wanted:
            name = obj["metadata"]["name"]
            current = existing.pop(name, None)
            if current is None:
                current = kube.apply(obj)
                outcome.actions.append(("Created", f"created {kind.kind} {name}"))
            elif drifted(obj, current):
                current = kube.apply(obj)
                outcome.actions.append(("Updated", f"updated {kind.kind} {name} (it differed from the watchlist)"))
            if kind is kube.DEPLOYMENT:
                outcome.deployments.append(current)
        for name, obj in existing.items():
            if _owned_by(obj, watchlist) and kube.delete(kind, watchlist.namespace, name):
                outcome.actions.append(("Deleted", f"deleted {kind.kind} {name} (no longer in the watchlist)"))
    return outcome


def deployment_ready(deployment: Obj) -> bool:
    spec_replicas = int(deployment.get("spec", {}).get("replicas", 1))
    status = deployment.get("status", {}) or {}
    generation = int(deployment.get("metadata", {}).get("generation", 0))
    if spec_replicas == 0 or int(status.get("observedGeneration", 0)) < generation:
        return False
    return int(status.get("readyReplicas", 0) or 0) >= spec_replicas


def budget_verdict(watchlist: Watchlist, index: BudgetIndex, settings: OperatorSettings) -> Verdict:
    key = watchlist.budget_key
    me = BudgetEntry.of(watchlist)
    if key is None:
        return assess(me, [], "no key", settings)
    label = f"Secret {key[1]} key {key[2]}"
    return assess(me, list(index.get(key, [])), label, settings)


def ready_condition(watchlist: Watchlist, verdict: Verdict, producers: int, ready: int) -> conditions.Condition:
    if not verdict.within:
        return conditions.Condition("Ready", "False", "OverBudget", f"no producer runs: {verdict.message}")
    if watchlist.spec.suspend:
        return conditions.Condition("Ready", "False", "Suspended", f"suspended: {producers} producer(s) scaled to 0")
    if ready >= producers:
        return conditions.Condition("Ready", "True", "ProducersReady", f"{ready}/{producers} producer(s) ready")
    return conditions.Condition(
        "Ready", "False", "ProducersNotReady", f"{ready}/{producers} producer(s) ready (Deployment readyReplicas)"
    )


def _classify(exc: ApiException) -> str:
    return {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}.get(
        int(exc.status or 0), "server" if int(exc.status or 0) >= 500 else "api"
    )


def reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    index: BudgetIndex,
    settings: OperatorSettings,
) -> None:
    """One reconcile pass; metrics and the error mapping (PermanentError vs TemporaryError) wrap `observe`."""
    started = time.perf_counter()
    try:
        patch.status.update(observe(body, logger, index, settings))
    except ValidationError as exc:
        metrics.RECONCILES.labels(result="error").inc()
        metrics.ERRORS.labels(kind="invalid_spec").inc()
        message = f"the watchlist spec cannot be used: {exc.errors(include_url=False)}"
        kopf.warn(body, reason="InvalidSpec", message=message)
        raise kopf.PermanentError(message) from exc
    except ApiException as exc:
        if exc.status == 403 and "NamespaceTerminating" in str(exc.body):
            logger.debug("the namespace is being deleted: nothing to converge")
            return
        kind = _classify(exc)
        metrics.RECONCILES.labels(result="error").inc()
        metrics.ERRORS.labels(kind=kind).inc()
        hint = " (check the operator's RBAC)" if kind == "forbidden" else ""
        message = f"Kubernetes API {exc.status} {exc.reason}{hint}"
        kopf.warn(body, reason="ReconcileFailed", message=message)
        raise kopf.TemporaryError(message, delay=30 if kind == "forbidden" else 5) from exc
    except kopf.TemporaryError as exc:
        metrics.RECONCILES.labels(result="error").inc()
        metrics.ERRORS.labels(kind="missing_crd").inc()
        kopf.warn(body, reason="MissingCRD", message=str(exc))
        raise
    else:
        metrics.RECONCILES.labels(result="success").inc()
    finally:
        metrics.RECONCILE_DURATION.observe(time.perf_counter() - started)


def observe(
    body: kopf.Body, logger: logging.Logger | logging.LoggerAdapter[Any], index: BudgetIndex, settings: OperatorSettings
) -> dict[str, Any]:
    """Converge the children, post events for what changed, and return the new status."""
    watchlist = Watchlist.from_body(body)
    if body.get("metadata", {}).get("deletionTimestamp"):
        return {}  # being deleted: the garbage collector removes the children
    verdict = budget_verdict(watchlist, index, settings)
    outcome = converge(watchlist, desired_objects(watchlist, settings, verdict.within))
    for reason, message in outcome.actions:
        kopf.info(body, reason=reason, message=message)
        logger.info(message)

    producers = len(outcome.deployments)
    ready = sum(1 for d in outcome.deployments if deployment_ready(d))
    previous = (body.get("status") or {}).get("conditions") or []
    budget = conditions.Condition("RateBudget", "True" if verdict.within else "False", verdict.reason, verdict.message)
    if conditions.status_of(previous, "RateBudget") != budget.status:
        emit = kopf.info if verdict.within else kopf.warn
        emit(body, reason=verdict.reason, message=verdict.message)
    current = [ready_condition(watchlist, verdict, producers, ready), budget]
    running = sum(int(d.get("spec", {}).get("replicas", 0)) for d in outcome.deployments)
    metrics.record(watchlist.uid, {c.type: c.status for c in current}, running)
    return {
        "conditions": conditions.merge(previous, current, watchlist.generation, conditions.now_rfc3339()),
        "observedGeneration": watchlist.generation,
        "symbols": len(watchlist.spec.symbols),
        "producers": producers,
        "readyProducers": ready,
        "topic": builders.topic_for(watchlist, settings),
        "callsPerMinute": builders.calls_per_minute(watchlist),
    }
