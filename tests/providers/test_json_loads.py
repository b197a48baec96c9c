"""`loads_bytes` gives exactly what json.loads gives for bytes: the same value or the same error."""

from __future__ import annotations

import json

import pytest

from llmobserve_otel.providers._json import loads_bytes, loads_object

BODIES = [
    b'{"usage":{"prompt_tokens":9},"model":"gpt-4o"}',
    '{"text":"Hallo \u2713"}'.encode(),
    b"[1, 2]",
    b"{}",
    b'{"s":"\xed\xa0\x80"}',  # an encoded surrogate: json.loads lets it through ('surrogatepass')
    b"\xef\xbb\xbf{}",  # UTF-8 BOM
    '{"a":1}'.encode("utf-16-le"),
    '{"a":1}'.encode("utf-16"),
    '{"a":1}'.encode("utf-32"),
    b' {"a":1}',
    b'{"a":',  # truncated
    b'{"a":"\xff"}',  # not UTF-8
    b'{"a":1} \r\n\t',  # trailing JSON whitespace
    b'{"a":1}\x0c',  # a form feed is not JSON whitespace
    b'{"a":1} x',
    b'{"a":1}{"b":2}',
    b"[1,]",
    b'{"a":NaN,"b":-Infinity,"c":123456789012345678901234567890,"d":1.5e3}',
    b"[" * 50 + b"]" * 50,
]


def outcome(load, body: bytes) -> object:  # type: ignore[no-untyped-def]
    try:
        return repr(load(body))  # NaN != NaN: compare the reprs
    except ValueError as exc:
        return type(exc)


@pytest.mark.parametrize("body", BODIES)
def test_same_as_json_loads(body: bytes) -> None:
    assert outcome(loads_bytes, body) == outcome(json.loads, body)


TEXTS = [
    '{"usage":{"prompt_tokens":9},"model":"gpt-4o"}',
    '{"a":1} \r\n\t',
    '{"a":1} x',
    '{"a":',
    "[1, 2]",  # not an object
    ' {"a":1}',
    '{"text":"Hallo \u2713"}',
]


@pytest.mark.parametrize("text", TEXTS)
def test_loads_object_same_as_json_loads(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        expected = None
    assert loads_object(text) == (expected if isinstance(expected, dict) else None)
