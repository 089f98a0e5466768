"""The event contract: what the JSON Schema accepts and refuses, and the model's wire form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from stockwatch.events import InvalidEventError, MarketEvent, event_id, validate_payload


def _event(**overrides: object) -> MarketEvent:
    fields: dict[str, object] = {
        "event_id": event_id("synthetic", "AAPL", 1),
        "event_type": "quote",
        "symbol": "AAPL",
        "price": 190.5,
        "change": 1.5,
        "change_pct": 0.79,
        "day_open": 189.0,
        "day_high": 191.0,
        "day_low": 188.5,
        "prev_close": 189.0,
        "event_time": datetime(2026, 11, 26, 14, 30, tzinfo=UTC),
        "ingest_time": datetime(2026, 11, 26, 14, 30, 1, tzinfo=UTC),
        "source": "synthetic",
    }
    fields.update(overrides)
    return MarketEvent.model_validate(fields)


def test_model_output_passes_the_schema() -> None:
    doc = validate_payload(_event().to_json())
    assert doc["symbol"] == "AAPL"
    assert doc["event_time"] == "2026-11-26T14:30:00.000Z"
    assert doc["schema_version"] == 1


def test_trade_with_volume_and_conditions() -> None:
    doc = validate_payload(_event(event_type="trade", volume=100.0, conditions=["1", "12"]).to_json())
    assert doc["volume"] == 100.0


def test_event_id_is_stable_and_distinct() -> None:
    assert event_id("a", 1) == event_id("a", 1)
    assert event_id("a", 1) != event_id("a", 2)
    assert len(event_id("x")) == 32


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(price=-1), "price"),
        (lambda d: d.update(price=0), "price"),
        (lambda d: d.pop("symbol"), "symbol"),
        (lambda d: d.update(symbol="aapl lower"), "symbol"),
        (lambda d: d.update(event_type="bar"), "event_type"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(event_time="yesterday"), "event_time"),
        (lambda d: d.update(extra_field=1), "extra_field"),
        (lambda d: d.update(volume=-5), "volume"),
    ],
)
def test_schema_violations_name_the_field(mutate: object, reason: str) -> None:
    doc = json.loads(_event().to_json())
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(InvalidEventError, match=reason):
        validate_payload(json.dumps(doc).encode())


@pytest.mark.parametrize("payload", [None, b"", b"{not json", b"[1,2]", b"\xff\xfe"])
def test_garbage_is_refused_with_a_reason(payload: bytes | None) -> None:
    with pytest.raises(InvalidEventError) as info:
        validate_payload(payload)
    assert info.value.reason
