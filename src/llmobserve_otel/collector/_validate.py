"""Type rules for the attributes the cost views read. Pure.

A span whose pinned attribute has the wrong type (a cost sent as a string, a token count as a
bool) comes from a broken instrumentation; storing it would put a silent zero into someone's
bill. The collector refuses such a request with 400 and names the span and the attribute, so the
fault shows up where it was made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from llmobserve_otel import semconv as sc

__all__ = ("InvalidAttributeError", "check_attributes")


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

_RULES: dict[str, Callable[[Any], str | None]] = {
    sc.COST_USD: _amount,
    **{key: _string for key in _STRINGS},
    **{key: _count for key in _COUNTS},
}
# Diagnostics that share the usage prefix but are not quantities.
_NOT_UNITS = frozenset({sc.USAGE_INCOMPLETE, sc.USAGE_STATUS})


def check_attributes(attributes: Mapping[str, Any], where: str) -> None:
    """Raise InvalidAttributeError when a pinned attribute has the wrong type.

    Args:
        attributes: the span's attributes as Python values.
        where: names the span in the message (e.g. `span 3 ('chat gpt-4o')`).
    """
    for key, value in attributes.items():
        rule = _RULES.get(key)
        if rule is None:
            if not key.startswith(sc.USAGE_PREFIX) or key in _NOT_UNITS:
                continue
            rule = _amount
        expected = rule(value)
        if expected is not None:
            raise InvalidAttributeError(
                f"{where}: attribute {key!r} must be {expected}, got {type(value).__name__} {value!r:.60}"
            )
