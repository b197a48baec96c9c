"""Writing attributes to an SDK span without the SDK cleaning each value again, when that changes nothing.

The OpenTelemetry SDK checks and copies every value set on a span (`_clean_attribute`), under two
locks, one key at a time. Our own values are already clean; the capture writes ~20 at a span's end
and the attribution processor two on every span under a customer or a section.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.attributes import BoundedAttributes

_PLAIN = frozenset({str, int, float, bool})
_PLAIN_OR_TUPLE = frozenset({str, int, float, bool, tuple})


def set_attributes(span: Any, attributes: dict[str, Any]) -> None:
    """`span.set_attributes(attributes)`, straight into the span's table when the SDK would keep them as
    they are: str, int, float, bool or a tuple of str, no value length limit, room in the table, a
    span not ended. Any other case (another span class included) takes the SDK's own path.
    """
    bounded = getattr(span, "_attributes", None)
    if (
        type(bounded) is BoundedAttributes
        and bounded.max_value_len is None
        and not bounded._immutable
        and (bounded.maxlen is None or len(bounded) + len(attributes) <= bounded.maxlen)
    ):
        kinds = set(map(type, attributes.values()))  # one pass in C; most calls hold no tuple
        if kinds <= _PLAIN or (
            kinds <= _PLAIN_OR_TUPLE
            and all(
                type(item) is str for value in attributes.values() if type(value) is tuple for item in value
            )
        ):
            with span._lock:
                if span._end_time is None:
                    with bounded._lock:
                        bounded._dict.update(attributes)
                    return
    span.set_attributes(attributes)
