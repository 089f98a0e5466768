"""Operator start-up: kopf settings (storage, events, peering priority, workers) and the metrics server."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

import kopf
from prometheus_client import start_http_server

from stockwatch_operator import GROUP
from stockwatch_operator.settings import OperatorSettings


def configure(
    kopf_settings: kopf.OperatorSettings,
    settings: OperatorSettings,
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> None:
    # Handler progress and the last-handled spec live in annotations: the status stays ours and schema-valid.
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    kopf_settings.persistence.finalizer = f"{GROUP}/operator"
    # Events on the watchlist are only the ones we post (created/updated/deleted children, budget, failures):
    # kopf's own log lines ("Timer succeeded" every pass) stay in the log.
    kopf_settings.posting.loggers = False
    kopf_settings.execution.max_workers = 16
    # No runtime CRD/namespace discovery: the watched resource is fixed, children are plain API calls (a missing
    # Strimzi/prometheus-operator CRD is reported per watchlist), so the operator needs no CRD read access.
    kopf_settings.scanning.disabled = True
    kopf_settings.watching.server_timeout = 300
    kopf_settings.watching.client_timeout = 330
    # Peering: every replica but the one with the highest priority pauses (equal priorities would pause all),
    # so each replica takes a random one unless STOCKWATCH_OPERATOR_PRIORITY pins it.
    pinned = os.environ.get("STOCKWATCH_OPERATOR_PRIORITY", "").strip()
    kopf_settings.peering.priority = int(pinned) if pinned else 1 + secrets.randbelow(2**31 - 2)
    kopf_settings.peering.stealth = True
    server, _ = start_http_server(settings.metrics_port)
    logger.info(
        f"metrics on :{server.server_port}/metrics; peering priority {kopf_settings.peering.priority}; "
        f"producer image {settings.producer_image}; repair every {settings.reconcile_interval_seconds}s"
    )
