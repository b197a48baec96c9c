"""OTLP spans -> `otel_traces` rows, exactly as the contrib ClickHouse exporter writes them.

Pure functions over `opentelemetry.proto` messages; no database, no I/O. Values follow the
contrib exporter (`exporter_traces.go`): ids as lowercase hex ('' for all-zero ids), span kind and
status code as pdata's names (`Client`, `Error`), the start time as `Timestamp`, `Duration` in
nanoseconds, and every attribute value as pdata's `Value.AsString()` (ints in decimal, doubles
in the shortest ES6 form, bools as `true`/`false`, bytes as base64, arrays and maps as JSON), so
a row written here is byte-for-byte the row rotel or otelcol-contrib would write.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

__all__ = (
    "SERVICE_NAME",
    "SPAN_KINDS",
    "STATUS_CODES",
    "attribute_string",
    "attributes_and_strings",
    "attributes_dict",
    "span_row",
    "string_map",
)

SERVICE_NAME = "service.name"

# pdata's names for the proto enums (ptrace.SpanKind.String(), ptrace.StatusCode.String()).
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")


def python_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as a plain Python value (None when empty)."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "array_value":
        return [python_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: python_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value
    return None


def attributes_dict(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP key-values as a dict of Python values; a repeated key keeps its last value (as pdata)."""
    return attributes_and_strings(attributes)[0]


def attributes_and_strings(attributes: Iterable[KeyValue]) -> tuple[dict[str, Any], dict[str, str]]:
    """OTLP key-values as (Python values, pdata AsString renderings), in one pass.

    The hot loop of ingestion, run for every attribute of every span. Reading `string_value`
    first costs one attribute access and settles the common case (a non-empty string); only the
    rest pay for `WhichOneof`, and only arrays and maps recurse.
    """
    values: dict[str, Any] = {}
    strings: dict[str, str] = {}
    for kv in attributes:
        value = kv.value
        text = value.string_value
        key = kv.key
        if text:
            values[key] = strings[key] = text
            continue
        kind = value.WhichOneof("value")
        if kind == "int_value":
            number = value.int_value
            values[key] = number
            strings[key] = str(number)
        elif kind == "string_value" or kind is None:
            values[key] = "" if kind else None
            strings[key] = ""
        else:
            values[key] = python = python_value(value)
            strings[key] = attribute_string(python)
    return values, strings


def format_double(value: float) -> str:
    """A double as Go's pdata formats it: ES6 number-to-string (shortest round-trip form)."""
    if math.isnan(value) or math.isinf(value):
        name = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        return "json: unsupported value: " + name
    magnitude = abs(value)
    if magnitude == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"  # Go's strconv keeps the sign of zero
    if magnitude < 1e-6 or magnitude >= 1e21:
        mantissa, exponent = repr(value).split("e")
        exp = int(exponent)
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    if value.is_integer():
        if magnitude < 2**53:  # exact, and the shortest form too
            return str(int(value))
        # Past 2**53 the shortest round-trip digits, zero-padded (123456789012345680000, not ...683968).
        text = format(Decimal(repr(value)), "f")
        return text[:-2] if text.endswith(".0") else text
    text = repr(value)
    # repr switches to exponent form at 1e16 and below 1e-4; ES6 only outside [1e-6, 1e21).
    return format(Decimal(text), "f") if "e" in text else text


def _json_raw(value: Any) -> str:
    # Go's json.Marshal of pdata AsRaw(): no spaces, sorted map keys, HTML-safe escaping,
    # doubles as ES6 numbers, bytes as base64 strings.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value) if math.isfinite(value) else "null"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, (bytes, bytearray)):
        return _json_string(base64.b64encode(value).decode("ascii"))
    if isinstance(value, Mapping):
        items = ",".join(f"{_json_string(str(k))}:{_json_raw(value[k])}" for k in sorted(value))
        return "{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_raw(v) for v in value) + "]"
    return _json_string(str(value))


def _json_string(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if "<" in encoded or ">" in encoded or "&" in encoded:
        encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return encoded


def attribute_string(value: Any) -> str:
    """A Python attribute value as pdata's `Value.AsString()` renders it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_double(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if value is None:
        return ""
    return _json_raw(value)


def string_map(attributes: Mapping[str, Any]) -> dict[str, str]:
    """Attributes as the `Map(LowCardinality(String), String)` the exporter writes."""
    return {k: v if type(v) is str else attribute_string(v) for k, v in attributes.items()}


def _proto_string_map(attributes: Iterable[KeyValue]) -> dict[str, str]:
    return {
        kv.key: kv.value.string_value
        if kv.value.WhichOneof("value") == "string_value"
        else attribute_string(python_value(kv.value))
        for kv in attributes
    }


_NO_EVENTS: tuple[tuple[()], ...] = ((), (), ())
_NO_LINKS: tuple[tuple[()], ...] = ((), (), (), ())


def _hex_id(raw: bytes) -> str:
    # traceutil.TraceIDToHexOrEmptyString: the all-zero id is written as ''.
    return raw.hex() if raw.strip(b"\x00") else ""


def span_row(
    span: Span,
    *,
    service_name: str,
    resource_attributes: Mapping[str, str],
    scope_name: str,
    scope_version: str,
    span_attributes: Mapping[str, str],
) -> tuple[Any, ...]:
    """One `otel_traces` row in `TRACES_INSERT_COLUMNS` order.

    `span_attributes` is passed in (already rendered as strings) because the collector adds the
    cost attributes to a span before it is stored; everything else comes from `span`.
    """
    start = span.start_time_unix_nano
    status = span.status
    kind = span.kind
    code = status.code
    head = (
        start,
        _hex_id(span.trace_id),
        _hex_id(span.span_id),
        _hex_id(span.parent_span_id),
        span.trace_state,
        span.name,
        SPAN_KINDS[kind] if 0 <= kind < len(SPAN_KINDS) else SPAN_KINDS[0],
        service_name,
        resource_attributes,
        scope_name,
        scope_version,
        span_attributes,
        max(0, span.end_time_unix_nano - start),
        STATUS_CODES[code] if 0 <= code < len(STATUS_CODES) else STATUS_CODES[0],
        status.message,
    )
    # Most spans have neither events nor links: skip the seven generators for them. Tuples, and
    # one shared empty tuple, because a queue of rows made of lists would keep the garbage
    # collector busy traversing them (tuples of strings and dicts of strings are not tracked).
    events = span.events
    if events:
        head += (
            tuple(e.time_unix_nano for e in events),
            tuple(e.name for e in events),
            tuple(_proto_string_map(e.attributes) for e in events),
        )
    else:
        head += _NO_EVENTS
    links = span.links
    if links:
        return (
            *head,
            tuple(_hex_id(link.trace_id) for link in links),
            tuple(_hex_id(link.span_id) for link in links),
            tuple(link.trace_state for link in links),
            tuple(_proto_string_map(link.attributes) for link in links),
        )
    return head + _NO_LINKS


def resource_fields(attributes: Iterable[KeyValue]) -> tuple[str, dict[str, str]]:
    """(ServiceName, ResourceAttributes) for a resource, as the exporter derives them."""
    rendered = _proto_string_map(attributes)
    return rendered.get(SERVICE_NAME, ""), rendered
