"""The event contract: `schemas/market_event.v1.json`, one versioned file that producer and loader share.

`MarketEvent` is the typed view used to build events; `validate_payload` checks raw bytes from
Kafka against the JSON Schema itself (the schema file is the contract, the model a convenience).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any, Literal

import fastjsonschema
import orjson
from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
EventType = Literal["quote", "trade"]
Source = Literal["finnhub-rest", "finnhub-ws", "synthetic"]


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of version 1 events."""
    text = resources.files("stockwatch.schemas").joinpath("market_event.v1.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Callable[[Any], Any]:
    """The schema compiled to Python (fastjsonschema): about 10 us a message, fit for the hot path."""
    validate: Callable[[Any], Any] = fastjsonschema.compile(schema())
    return validate


def event_id(*parts: object) -> str:
    """A stable 128-bit id (hex) from the parts that identify a market event."""
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def utc_iso(ts: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, millisecond precision."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MarketEvent(BaseModel):
    """One quote or trade; field meanings are in the JSON Schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    event_id: str
    event_type: EventType
    symbol: str
    price: float
    change: float | None = None
    change_pct: float | None = None
    day_open: float | None = None
    day_high: float | None = None
    day_low: float | None = None
    prev_close: float | None = None
    volume: float | None = None
    conditions: list[str] | None = None
    event_time: datetime
    ingest_time: datetime
    source: Source

    def to_doc(self) -> dict[str, Any]:
        """The JSON document (timestamps as ISO-8601 UTC strings)."""
        doc = dict(self.__dict__)
        doc["event_time"] = utc_iso(self.event_time)
        doc["ingest_time"] = utc_iso(self.ingest_time)
        return doc

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_doc())

    @property
    def key(self) -> bytes:
        """The Kafka key: the symbol, so a symbol's events stay in order on one partition."""
        return self.symbol.encode()


class InvalidReason(StrEnum):
    """Why a message is not a valid event: a fixed vocabulary (a metric label and a DLQ header)."""

    EMPTY = "empty"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    SCHEMA = "schema"


class InvalidEventError(ValueError):
    """A message that is not a valid version-1 event; `kind` is the class, `reason` the readable why
    (both go to the DLQ headers)."""

    def __init__(self, reason: str, kind: InvalidReason = InvalidReason.SCHEMA) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def validate_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate a parsed event against the schema; raise `InvalidEventError` with a readable reason."""
    try:
        _validator()(doc)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidEventError(f"schema violation: {exc.message}") from None
    return doc


def validate_payload(payload: bytes | None) -> dict[str, Any]:
    """Parse and validate one Kafka message value; raise `InvalidEventError` with a readable reason."""
    if payload is None:
        raise InvalidEventError("empty message (tombstone)", InvalidReason.EMPTY)
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidEventError(f"not JSON: {exc}", InvalidReason.NOT_JSON) from None
    if not isinstance(doc, dict):
        raise InvalidEventError(f"not a JSON object but {type(doc).__name__}", InvalidReason.NOT_OBJECT)
    return validate_doc(doc)


def parse_time(value: str) -> datetime:
    """Parse an event's ISO-8601 timestamp to an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
