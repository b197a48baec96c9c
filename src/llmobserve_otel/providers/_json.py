"""Small, forgiving readers for decoded JSON: a wrong type reads as missing, never raises."""

from __future__ import annotations

import json
from typing import Any

_scan_once = json.JSONDecoder().scan_once
"""The C scanner `json.loads` ends in, without its three Python-level frames and two regex matches."""


def loads_object(text: str | bytes) -> dict[str, Any] | None:
    """A JSON object parsed from `text`, or None when it is malformed or not an object."""
    try:
        value = _loads_text(text) if type(text) is str and text[:1] == "{" else json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _loads_text(text: str) -> Any:
    """`json.loads(text)` for a `text` that opens a value (no leading whitespace or BOM)."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration as missing:  # as json.decoder.raw_decode turns it
        raise json.JSONDecodeError("Expecting value", text, missing.value) from None
    if end != len(text) and text[end:].strip(" \t\n\r"):  # json's whitespace
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def loads_bytes(body: bytes) -> Any:
    """`json.loads(body)`, without its Python-level layers when the body is plainly UTF-8.

    A body opening with `{` or `[` and no NUL second byte is what json.loads itself reads as UTF-8;
    a strict decode that fails (e.g. on encoded surrogates, which json.loads lets through) falls
    back to json.loads on the bytes. The value or the error is always json.loads'.
    """
    if body[:1] in (b"{", b"[") and body[1:2] != b"\x00":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return json.loads(body)
        return _loads_text(text)
    return json.loads(body)


def dig(obj: Any, *path: str) -> Any:
    """`obj[path[0]][path[1]]...`, or None where a step is missing or not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def as_int(value: Any) -> int | None:
    """A non-negative int, or None (bools, strings, floats with a fraction and negatives are not counts)."""
    if type(value) is int:  # the common case first: one check
        return value if value >= 0 else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
