"""Instant repair: events on the producer Deployments and their ConfigMap re-run their watchlist's reconcile.

The repair timer stays as the safety net; this path only shortens the wait. A child that was deleted or
no longer carries what the watchlist asks for, or a Deployment that changed readiness (the watchlist's
Ready condition follows it), triggers one reconcile pass of its owner. Events caused by our own apply, and
the Deployment controller's status writes that change nothing we watch, trigger nothing: there is no loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from stockwatch_operator import KIND, kube
from stockwatch_operator.drift import drifted
from stockwatch_operator.handlers.handle_reconcile import (
    BudgetIndex,
    budget_verdict,
    deployment_ready,
    desired_objects,
    observe,
)
from stockwatch_operator.model import Watchlist
from stockwatch_operator.settings import OperatorSettings

Obj = Mapping[str, Any]
Logger = logging.Logger | logging.LoggerAdapter[Any]

# Readiness last seen per Deployment uid: a change (not the first sighting) is worth a status update.
_readiness: dict[str, bool] = {}


def owner(child: Obj) -> str | None:
    """The name of the StockWatchlist controlling `child`, if any."""
    for ref in child.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == KIND and ref.get("controller"):
            return str(ref.get("name"))
    return None


def why_reconcile(
    event_type: str | None, child: Obj, watchlist: Watchlist, index: BudgetIndex, settings: OperatorSettings
) -> str | None:
    """Why this event on `child` needs its watchlist reconciled now; None when it does not (pure)."""
    uid = str(child.get("metadata", {}).get("uid"))
    if event_type == "DELETED":
        _readiness.pop(uid, None)
        return "deleted"
    kind, name = child.get("kind"), child.get("metadata", {}).get("name")
    within = budget_verdict(watchlist, index, settings).within
    wanted = {(o["kind"], o["metadata"]["name"]): o for o in desired_objects(watchlist, settings, within)}
    desired = wanted.get((kind, name))
    if desired is None:
        return "no longer wanted"
    if drifted(desired, child):
        return "differs from the watchlist"
    if kind != "Deployment":
        return None
    ready, before = deployment_ready(dict(child)), _readiness.get(uid)
    _readiness[uid] = ready
    if before is not None and before != ready:
        return "became ready" if ready else "is no longer ready"
    return None


def on_child_event(
    event_type: str | None,
    child: Obj,
    logger: Logger,
    watchlists: Mapping[tuple[str, str], Any],
    index: BudgetIndex,
    settings: OperatorSettings,
) -> None:
    namespace, name = child.get("metadata", {}).get("namespace"), owner(child)
    if name is None or namespace is None:
        return
    bodies = list(watchlists.get((namespace, name), []))
    if not bodies:
        return  # not (or no longer) a watchlist this operator knows
    body = bodies[-1]
    watchlist = Watchlist.from_body(body)
    reason = why_reconcile(event_type, child, watchlist, index, settings)
    if reason is None:
        return
    child_name = f"{child.get('kind', 'object')} {child.get('metadata', {}).get('name')}"
    try:
        # A child deleted by the garbage collector after its watchlist: nothing to restore.
        if kube.watchlist_uid(namespace, name) != watchlist.uid:
            return
        logger.info(f"{child_name} {reason}: reconciling watchlist {name}")
        status = observe(body, logger, index, settings)
        if status:
            kube.patch_watchlist_status(namespace, name, status)
    except ApiException as exc:
        # The repair timer retries; an event handler has no retry of its own.
        logger.warning(f"reconciling watchlist {name} after {child_name} {reason}: API {exc.status}")
