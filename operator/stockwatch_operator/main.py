"""kopf wiring only: every decorator delegates to `stockwatch_operator.handlers`.

Run: `kopf run -m stockwatch_operator.main --all-namespaces --peering=stockwatch-operator
--liveness=http://0.0.0.0:8081/healthz` (or `stockwatch-operator`, which adds those defaults).
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from stockwatch_operator import FIELD_MANAGER, GROUP, PLURAL, VERSION
from stockwatch_operator.budget import BudgetEntry
from stockwatch_operator.handlers import handle_children, handle_delete, handle_index, handle_reconcile, handle_startup
from stockwatch_operator.settings import OperatorSettings

SETTINGS = OperatorSettings.from_env()
Logger = logging.Logger | logging.LoggerAdapter[Any]


@kopf.on.startup()
def startup(settings: kopf.OperatorSettings, logger: Logger, **_: Any) -> None:
    handle_startup.configure(settings, SETTINGS, logger)


@kopf.index(GROUP, VERSION, PLURAL)
def budget_keys(body: kopf.Body, **_: Any) -> dict[handle_index.BudgetKey, BudgetEntry] | None:
    return handle_index.budget_keys(body)


@kopf.index(GROUP, VERSION, PLURAL)
def watchlists(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[tuple[str, str], kopf.Body]:
    """Watchlists by (namespace, name): the producer event handler finds a Deployment's owner here."""
    return {(namespace or "", name): body}


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
def reconcile(body: kopf.Body, patch: kopf.Patch, logger: Logger, **kwargs: Any) -> None:
    handle_reconcile.reconcile(body, patch, logger, kwargs["budget_keys"], SETTINGS)


@kopf.timer(
    GROUP,
    VERSION,
    PLURAL,
    interval=SETTINGS.reconcile_interval_seconds,
    initial_delay=SETTINGS.reconcile_interval_seconds,
)
def repair(body: kopf.Body, patch: kopf.Patch, logger: Logger, **kwargs: Any) -> None:
    handle_reconcile.reconcile(body, patch, logger, kwargs["budget_keys"], SETTINGS)


@kopf.on.event("apps", "v1", "deployments", labels={"app.kubernetes.io/managed-by": FIELD_MANAGER})
@kopf.on.event("", "v1", "configmaps", labels={"app.kubernetes.io/managed-by": FIELD_MANAGER})
def child_event(event: kopf.RawEvent, body: kopf.Body, logger: Logger, **kwargs: Any) -> None:
    handle_children.on_child_event(
        event.get("type"), body, logger, kwargs["watchlists"], kwargs["budget_keys"], SETTINGS
    )


@kopf.on.delete(GROUP, VERSION, PLURAL, optional=True)
def deleted(body: kopf.Body, **_: Any) -> None:
    handle_delete.forget(body)


@kopf.on.probe(id="watchlists")
def probe(**kwargs: Any) -> int:
    """Liveness payload: how many API keys the budget index tracks (the index answering means the loop is alive)."""
    return len(kwargs.get("budget_keys", {}))
