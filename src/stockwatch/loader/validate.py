"""Step 2 — validate: split a batch into RAW rows and dead letters.

Contract: every message ends in exactly one of the two lists. A row is a tuple in
`warehouse.RAW_COLUMN_NAMES` order; an `InvalidMessage` keeps the original message, a typed reason
(`events.InvalidReason`, raised where the check failed, never parsed back from text) and a readable detail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message

from stockwatch.events import InvalidEventError, InvalidReason, parse_time, validate_payload

Row = tuple[Any, ...]


@dataclass(frozen=True)
class InvalidMessage:
    """A message that is not a valid event: `reason` is its class (a bounded vocabulary, the metric label),
    `detail` the readable why (the DLQ header)."""

    message: Message
    reason: InvalidReason
    detail: str


def _ts(value: str) -> str:
    return parse_time(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def to_row(doc: dict[str, Any], msg: Message, loaded_at: str) -> Row:
    conditions = doc.get("conditions")
    return (
        doc["event_id"],
        doc["schema_version"],
        doc["event_type"],
        doc["symbol"],
        doc["price"],
        doc.get("change"),
        doc.get("change_pct"),
        doc.get("day_open"),
        doc.get("day_high"),
        doc.get("day_low"),
        doc.get("prev_close"),
        doc.get("volume"),
        None if conditions is None else json.dumps(conditions, separators=(",", ":")),
        _ts(doc["event_time"]),
        _ts(doc["ingest_time"]),
        doc["source"],
        msg.topic(),
        msg.partition(),
        msg.offset(),
        loaded_at,
    )


def split(messages: list[Message]) -> tuple[list[Row], list[InvalidMessage]]:
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    rows: list[Row] = []
    invalid: list[InvalidMessage] = []
    for msg in messages:
        try:
            rows.append(to_row(validate_payload(msg.value()), msg, loaded_at))
        except InvalidEventError as exc:
            invalid.append(InvalidMessage(msg, exc.kind, exc.reason))
    return rows, invalid
