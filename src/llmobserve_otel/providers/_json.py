"""Small, forgiving readers for decoded JSON: a wrong type reads as missing, never raises."""

from __future__ import annotations

import json
from typing import Any


def loads_object(text: str | bytes) -> dict[str, Any] | None:
    """A JSON object parsed from `text`, or None when it is malformed or not an object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def dig(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]...`, or None where a step is missing or not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def as_int(value: Any) -> int | None:
    """A non-negative int, or None (bools, strings, floats with a fraction and negatives are not counts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
