"""Rotel trace processor: prices spans with llmobserve-otel's pricing core (`llmobserve.cost.source=collector`).

```
rotel start --otlp-with-trace-processor pricing_processor/llmobserve_pricing.py --exporter ...
```

Rotel runs this file in its embedded Python (the libpython the rotel binary links, 3.11 for the
PyPI wheel `rotel==0.0.1a15`), which sees only that Python's own site-packages. Point it at the
environment where `llmobserve-otel` is installed with `VIRTUAL_ENV=/path/to/venv` (its
site-packages, `.pth` files included, go first on `sys.path`) or `PYTHONPATH`; the Python versions
must match. A missing pricing core stops rotel at start-up, not at the first span.

For each span that carries GenAI or llmobserve attributes: attributes -> dict ->
`llmobserve_otel.pricing.cost_attributes(..., source="collector", timestamp_ns=span start)` ->
the returned attributes are set on the span (replacing a key it already has, so keys stay
unique). A span that already carries `llmobserve.cost.usd` keeps it. This never raises: an
exception in a processor aborts the whole rotel agent, so a span that cannot be priced flows on
with `llmobserve.cost.status=error` and the reason.
"""

from __future__ import annotations

import logging
import os
import site
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ("attributes_dict", "is_priceable", "price_span", "process_spans", "set_attributes")

_log = logging.getLogger("llmobserve_otel.pricing_processor")


def _use_virtualenv() -> None:
    """Put $VIRTUAL_ENV's site-packages first on sys.path (before the system Python's packages)."""
    venv = os.environ.get("VIRTUAL_ENV")
    if not venv:
        return
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    before = list(sys.path)
    site.addsitedir(os.path.join(venv, "lib", version, "site-packages"))
    added = [path for path in sys.path if path not in before]
    sys.path[:] = added + before


_use_virtualenv()

from rotel_sdk.open_telemetry.common.v1 import KeyValue  # noqa: E402  (after the path set-up)

try:
    from llmobserve_otel import semconv as sc
    from llmobserve_otel.pricing import cost_attributes
except ImportError as exc:  # fail at start-up, with the fix, rather than pass spans unpriced
    raise ImportError(
        f"llmobserve pricing processor: cannot import llmobserve_otel ({exc}); install llmobserve-otel "
        f"for Python {sys.version_info.major}.{sys.version_info.minor} and set VIRTUAL_ENV or PYTHONPATH"
    ) from exc

# Only spans with GenAI or llmobserve attributes can be paid calls (as in the local collector).
_PRICEABLE_PREFIXES = ("gen_ai.", "llmobserve.")
_SCALARS = (str, bool, int, float)
_MAX_REASON = 300
_logged: set[str] = set()


def is_priceable(keys: Iterable[str]) -> bool:
    """True when any attribute key is a GenAI or llmobserve one (keys only: cheap for other spans)."""
    return any(key.startswith(_PRICEABLE_PREFIXES) for key in keys)


def attributes_dict(key_values: Sequence[Any], keys: Sequence[str] | None = None) -> dict[str, Any]:
    """Rotel `KeyValue`s -> {key: str | bool | int | float}; arrays, maps, bytes and empty values are
    skipped (the pricing core reads scalars only). `keys`: their keys, when already read."""
    attributes: dict[str, Any] = {}
    for key, kv in zip(keys if keys is not None else [kv.key for kv in key_values], key_values, strict=True):
        any_value = kv.value
        if any_value is None:
            continue
        value = any_value.value
        if isinstance(value, _SCALARS):
            attributes[key] = value
    return attributes


def _key_value(key: str, value: Any) -> KeyValue:
    if isinstance(value, bool):  # before int: bool is an int
        return KeyValue.new_bool_value(key, value)
    if isinstance(value, int):
        return KeyValue.new_int_value(key, value)
    if isinstance(value, float):
        return KeyValue.new_double_value(key, value)
    return KeyValue.new_string_value(key, str(value))


def set_attributes(key_values: Any, added: Mapping[str, Any], keys: Sequence[str] | None = None) -> None:
    """Set `added` on rotel's attribute list, replacing keys it already has (keys must stay unique).
    `keys`: the list's keys in order, when already read."""
    pending = dict(added)
    for index, key in enumerate(keys if keys is not None else [kv.key for kv in key_values]):
        if key in pending:
            key_values[index] = _key_value(key, pending.pop(key))
    for key, value in pending.items():
        key_values.append(_key_value(key, value))


def price_span(span: Any) -> None:
    """Add the cost attributes to one rotel `Span` (nothing for spans that are not paid calls)."""
    key_values = span.attributes
    # Each access to a rotel object crosses into Rust: read the list and its keys once.
    items = list(key_values)
    keys = [kv.key for kv in items]
    if not is_priceable(keys):
        return
    try:
        added = cost_attributes(
            attributes_dict(items, keys),
            source=sc.SOURCE_COLLECTOR,
            timestamp_ns=span.start_time_unix_nano or None,
        )
    except Exception as exc:  # cost_attributes guards itself; this catches the conversion
        added = {
            sc.COST_STATUS: sc.STATUS_ERROR,
            sc.COST_REASON: f"{type(exc).__name__}: {exc}"[:_MAX_REASON],
        }
    if added:
        set_attributes(key_values, added, keys)


def process_spans(resource_spans: Any) -> None:
    """Rotel's entry point, called with one `ResourceSpans` at a time; changes spans in place."""
    try:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                try:
                    price_span(span)
                except Exception as exc:  # an exception here would abort rotel: log, let the span flow
                    _log_once(exc)
    except Exception as exc:  # the batch itself could not be read: it flows on unpriced
        _log_once(exc)


def _log_once(exc: Exception) -> None:
    kind = type(exc).__name__
    if kind not in _logged and len(_logged) < 100:
        _logged.add(kind)
        _log.error("llmobserve pricing processor: a span was left unpriced: %r", exc)
