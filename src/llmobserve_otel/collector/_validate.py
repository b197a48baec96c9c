"""Type rules for the attributes the cost views read. Pure.

A span whose pinned attribute has the wrong type (a cost sent as a string, a token count as a
bool) comes from a broken instrumentation; storing it would put a silent zero into someone's
bill. The collector refuses such a request with 400 and names the span and the attribute, so the
fault shows up where it was made.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from itertools import repeat
from typing import Any

from llmobserve_otel import semconv as sc

__all__ = ("InvalidAttributeError", "check_attributes", "surely_valid")


class InvalidAttributeError(ValueError):
    """A pinned attribute has a value of the wrong type."""


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def _amount(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "a non-negative number"
    if not math.isfinite(value) or value < 0:
        return "a finite non-negative number"
    return None


def _count(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "a non-negative integer"
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return "a non-negative integer"
    return "a non-negative integer" if value < 0 else None


_STRINGS = (
    sc.COST_SOURCE,
    sc.COST_STATUS,
    sc.PROVIDER,
    sc.OPERATION,
    sc.CUSTOMER_ID,
    sc.SECTION_PATH,
    sc.SECTION_NAME,
    sc.SECTION_KIND,
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_SYSTEM,
    sc.GEN_AI_OPERATION_NAME,
    sc.GEN_AI_REQUEST_MODEL,
    sc.GEN_AI_RESPONSE_MODEL,
)
_COUNTS = (
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    sc.GEN_AI_USAGE_PROMPT_TOKENS,
    sc.GEN_AI_USAGE_COMPLETION_TOKENS,
)

_STRING_KEYS = frozenset(_STRINGS)
_COUNT_KEYS = frozenset(_COUNTS)
_AMOUNT_KEYS = frozenset({sc.COST_USD})
_PINNED_KEYS = _STRING_KEYS | _COUNT_KEYS | _AMOUNT_KEYS
# Diagnostics that share the usage prefix but are not quantities.
_NOT_UNITS = frozenset({sc.USAGE_INCOMPLETE, sc.USAGE_STATUS})


def check_attributes(attributes: Mapping[str, Any], span_name: str, index: int) -> None:
    """Raise InvalidAttributeError when a pinned attribute has the wrong type.

    Args:
        attributes: the span's attributes as Python values.
        span_name, index: name the span in the message (`span 3 ('chat gpt-4o'): ...`).
    """
    # Runs for every span, so the common case stays in C: one set intersection finds the pinned
    # keys present, exact type checks pass the well-formed values, and one map/any scan looks
    # for usage units. Only a suspicious value goes through the rule functions.
    for key in _PINNED_KEYS.intersection(attributes):
        value = attributes[key]
        kind = type(value)
        if kind is str:
            if key in _STRING_KEYS:
                continue
        elif kind is int:
            if value >= 0 and key not in _STRING_KEYS:
                continue
        elif kind is float and key in _AMOUNT_KEYS and 0 <= value < math.inf:
            continue
        _check(key, value, span_name, index)
    if any(map(str.startswith, attributes, repeat(sc.USAGE_PREFIX))):
        for key, value in attributes.items():
            if key.startswith(sc.USAGE_PREFIX) and key not in _NOT_UNITS and _amount(value) is not None:
                _check(key, value, span_name, index)


def _check(key: str, value: Any, span_name: str, index: int) -> None:
    rule = _string if key in _STRING_KEYS else _count if key in _COUNT_KEYS else _amount
    expected = rule(value)
    if expected is not None:
        raise InvalidAttributeError(
            f"span {index} ({span_name!r}): attribute {key!r} must be {expected}, "
            f"got {type(value).__name__} {value!r:.60}"
        )


# --- the same rules over the raw request bytes, for the fast path ---------------------------------
#
# Every span attribute subject to a rule is a KeyValue whose key field is `\x0a <len> <key>`, in
# whatever order its fields come. One regex pass looks for such a key field NOT followed by a value
# field that passes the rule (`\x12 <len> <AnyValue>`, the canonical order every protobuf library
# writes). None found means every such attribute passed; a hit (a wrong type, a non-canonical
# encoding, -0.0, a count sent as a double) sends the request to `check_attributes`, which decides
# exactly. Strings are checked for their tag and length only.

# The string's length must agree with the AnyValue's: a key with no value field is followed by the
# next span or scope (`\x12 <len> \x0a ...`), which otherwise reads as a string value.
_STRING_VALUE = (
    b"|".join(re.escape(bytes([n + 2, 0x0A, n])) for n in range(126))
    + rb"|[\x80-\xff][\x00-\x7f]\x0a(?:[\x7e\x7f]|[\x80-\xff])"
)
# A non-negative int64: a varint of at most 9 bytes, the AnyValue holding nothing else.
_INT_VALUE = b"|".join(
    re.escape(bytes([n + 1, 0x18])) + (b"[\x80-\xff]{%d}" % (n - 1) if n > 1 else b"") + b"[\x00-\x7f]"
    for n in range(1, 10)
)
# A finite non-negative double: sign bit clear, exponent not all ones (little-endian fixed64).
_DOUBLE_VALUE = rb"\x09\x21[\x00-\xff]{6}(?:[\x00-\xff][\x00-\x7e]|[\x00-\xef]\x7f)"
_VALUE_RULES = {
    **dict.fromkeys(_STRINGS, _STRING_VALUE),
    **dict.fromkeys(_COUNTS, _INT_VALUE),
    sc.COST_USD: _INT_VALUE + b"|" + _DOUBLE_VALUE,
}


def _suspect_regex() -> re.Pattern[bytes]:
    # Grouped by key length, the byte after the tag, so most candidates fail on one comparison.
    by_length: dict[int, list[bytes]] = {}
    for key, value in _VALUE_RULES.items():
        branch = re.escape(key.encode()) + b"(?!\x12(?:" + value + b"))"
        by_length.setdefault(len(key), []).append(branch)
    return re.compile(
        b"\x0a(?:"
        + b"|".join(re.escape(bytes([n])) + b"(?:" + b"|".join(alts) + b")" for n, alts in by_length.items())
        + b")"
    )


_SUSPECT = _suspect_regex()
_USAGE_PREFIX = sc.USAGE_PREFIX.encode()


def surely_valid(body: bytes) -> bool:
    """True when no span in this encoded ExportTraceServiceRequest can fail `check_attributes`.

    False means "not sure": decode the request and run `check_attributes`. Non-token usage units
    (`llmobserve.usage.*`, open-ended keys) always answer False.
    """
    return _USAGE_PREFIX not in body and _SUSPECT.search(body) is None
