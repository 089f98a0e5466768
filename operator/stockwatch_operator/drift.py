"""Does the live object still carry everything we asked for? (pure; apiserver defaults are ignored)."""

from __future__ import annotations

from typing import Any


def _same_named(desired: list[Any], actual: list[Any]) -> bool:
    by_name = {item.get("name"): item for item in actual if isinstance(item, dict)}
    return all(name in by_name and contains(item, by_name[name]) for item in desired for name in [item["name"]])


def contains(desired: Any, actual: Any) -> bool:
    """True when every field set in `desired` has the same value in `actual`.

    Extra fields in `actual` (defaults, status, fields other managers own) do not count as drift. Lists of
    named items (containers, env, ports, volumes) are matched by name, other lists element by element.
    """
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(k in actual and contains(v, actual[k]) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(actual, list):
            return False
        if desired and all(isinstance(item, dict) and "name" in item for item in desired):
            return _same_named(desired, actual)
        return len(desired) == len(actual) and all(contains(d, a) for d, a in zip(desired, actual, strict=True))
    return bool(desired == actual)


def drifted(desired: dict[str, Any], live: Any) -> bool:
    """True when the live child no longer carries what `desired` (a full manifest) asks for."""
    return not contains({k: v for k, v in desired.items() if k not in ("apiVersion", "kind")}, live)
