"""Span rows -> `otel_traces`, parsed and mapped inside ClickHouse (the embedded store's fast path).

The collector hands the store OTLP spans as length-delimited `SpanRow` messages (`span_row.proto`:
service name and resource attributes already rendered, scope, and the span's own bytes). One `INSERT ... SELECT` reads them with ClickHouse's
Protobuf format and renders every column the way `_rows.span_row` does in Python, so the rows are
the same whichever path wrote them (a test compares the two on every value kind). Python never
touches an attribute value, which is what made the Python path cost ~25 µs a span.

What SQL cannot render exactly (an array or key-value list nested inside another, a key repeated
inside a key-value list) makes the SELECT throw before anything is written: a batch is read as one
block, and the caller then stores that batch through the Python path instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

from llmobserve_otel.store._rows import SPAN_KINDS, STATUS_CODES
from llmobserve_otel.store._schema import TRACES_INSERT_COLUMNS, TRACES_TABLE, ident, literal

__all__ = ("NESTED_VALUE_ERROR", "SCHEMA_FILE", "STRUCTURE", "insert_span_rows", "insert_statement")

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "span_row.proto")
NESTED_VALUE_ERROR = "llmobserve: attribute value SQL cannot render"

# Which member of an AnyValue oneof is set (input_format_protobuf_oneof_presence): the field numbers.
_KIND = (
    "Enum8('none' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3, 'double_value' = 4, "
    "'array_value' = 5, 'kvlist_value' = 6, 'bytes_value' = 7)"
)
_SCALARS = "string_value String, bool_value UInt8, int_value Int64, double_value Float64"
_LEAF = f"Tuple({_SCALARS}, array_value String, kvlist_value String, bytes_value String, kind {_KIND})"
_ANY = (
    f"Tuple({_SCALARS}, array_value Tuple(values Array({_LEAF})), "
    f"kvlist_value Tuple(values Array(Tuple(key String, value {_LEAF}))), bytes_value String, kind {_KIND})"
)
_KVS = f"Array(Tuple(key String, value {_ANY}))"
STRUCTURE = (
    "service_name String, resource_attributes Array(Tuple(key String, value String)), "
    "scope Tuple(name String, version String), "
    f"span Tuple(trace_id String, span_id String, trace_state String, parent_span_id String, name String, "
    f"kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64, attributes {_KVS}, "
    f"events Array(Tuple(time_unix_nano UInt64, name String, attributes {_KVS})), "
    f"links Array(Tuple(trace_id String, span_id String, trace_state String, attributes {_KVS})), "
    f"status Tuple(message String, code Int32))"
)

# json.dumps(ensure_ascii=False) escapes, plus Go's HTML-safe ones (`_rows._json_string`); the
# backslash first, so later replacements are not escaped again.
_JSON_ESCAPES: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
    *((chr(c), f"\\u{c:04x}") for c in range(0x20) if chr(c) not in "\n\r\t\b\f"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
)


def _json_string(text: str) -> str:
    expr = text
    for raw, escaped in _JSON_ESCAPES:
        expr = f"replaceAll({expr}, {literal(raw)}, {literal(escaped)})"
    return f"concat('\"', {expr}, '\"')"


def _double(value: str) -> str:
    # ES6 number-to-string, as `_rows.format_double`: ClickHouse's shortest round-trip form agrees
    # (negative zero included: '-0', as Go writes it) except for the '+' of large exponents.
    return (
        f"if(isFinite({value}), if(abs({value}) >= 1e21, "
        f"replaceOne(toString({value}), 'e', 'e+'), toString({value})), "
        f"if(isNaN({value}), 'json: unsupported value: NaN', "
        f"if({value} > 0, 'json: unsupported value: +Inf', 'json: unsupported value: -Inf')))"
    )


def _leaf_json(v: str) -> str:
    """An array element or list value as JSON (`_rows._json_raw`)."""
    return (
        f"multiIf({v}.kind = 'string_value', {_json_string(v + '.string_value')}, "
        f"{v}.kind = 'int_value', toString({v}.int_value), "
        f"{v}.kind = 'double_value', if(isFinite({v}.double_value), {_double(v + '.double_value')}, 'null'), "
        f"{v}.kind = 'bool_value', if({v}.bool_value, 'true', 'false'), "
        f"{v}.kind = 'bytes_value', concat('\"', base64Encode({v}.bytes_value), '\"'), "
        f"{v}.kind = 'none', 'null', "
        f"toString(throwIf({v}.kind IN ('array_value', 'kvlist_value'), {literal(NESTED_VALUE_ERROR)})))"
    )


def _scalar_branches(v: str) -> str:
    """multiIf branches rendering a scalar value as pdata's `AsString()` (`_rows.attribute_string`)."""
    return (
        f"{v}.kind = 'string_value', {v}.string_value, "
        f"{v}.kind = 'int_value', toString({v}.int_value), "
        f"{v}.kind = 'double_value', {_double(v + '.double_value')}, "
        f"{v}.kind = 'bool_value', if({v}.bool_value, 'true', 'false'), "
        f"{v}.kind = 'bytes_value', base64Encode({v}.bytes_value), "
    )


def _scalar_string(v: str) -> str:
    """A scalar attribute value as `AsString()`; an array or list throws (events and links rarely have one)."""
    return (
        f"multiIf({_scalar_branches(v)}"
        f"{v}.kind = 'none', '', "  # an empty value is '', not the '0' of toString(throwIf(...))
        f"toString(throwIf({v}.kind IN ('array_value', 'kvlist_value'), {literal(NESTED_VALUE_ERROR)})))"
    )


def _as_string(v: str) -> str:
    """An attribute value as `AsString()`, arrays and lists of scalars as JSON (`_rows._json_raw`)."""
    items = f"{v}.kvlist_value.values"
    array = (
        f"concat('[', arrayStringConcat(arrayMap(x -> {_leaf_json('x')}, {v}.array_value.values), ','), ']')"
    )
    kvlist = (
        f"concat('{{', arrayStringConcat(arrayMap(kv -> concat({_json_string('kv.key')}, ':', "
        f"{_leaf_json('kv.value')}), arraySort(kv -> kv.key, {items})), ','), '}}')"
    )
    unique = f"length(arrayDistinct(arrayMap(kv -> kv.key, {items}))) = length({items})"
    return (
        f"multiIf({_scalar_branches(v)}"
        f"{v}.kind = 'array_value', {array}, "
        f"{v}.kind = 'kvlist_value', if({unique}, {kvlist}, "
        f"toString(throwIf(NOT {unique}, {literal(NESTED_VALUE_ERROR)}))), "
        f"'')"
    )


def _map(kvs: str, render: Callable[[str], str] = _as_string) -> str:
    """Key-values as the exporter's map (`_REPEATED_KEY` refuses a key given twice)."""
    return f"mapFromArrays(arrayMap(kv -> kv.key, {kvs}), arrayMap(kv -> {render('kv.value')}, {kvs}))"


def _repeated_key(kvs: str) -> str:
    return f"arrayUniq(arrayMap(kv -> kv.key, {kvs})) != length({kvs})"


# A key given twice: a dict keeps its last value, and deduplicating in SQL would cost more than all
# the span's other columns, so such a batch goes the Python way.
_REPEATED_KEY = (
    f"{_repeated_key('span.attributes')} "
    f"OR arrayExists(e -> {_repeated_key('e.attributes')}, span.events) "
    f"OR arrayExists(l -> {_repeated_key('l.attributes')}, span.links)"
)


def _hex_id(raw: str) -> str:
    # '' for an empty or all-zero id (traceutil.TraceIDToHexOrEmptyString).
    return f"if(trim(BOTH '\\0' FROM {raw}) = '', '', lower(hex({raw})))"


def _name_of(names: tuple[str, ...], number: str) -> str:
    # The enum's name as the Python path picks it: out of range reads as the first (unspecified).
    array = "[" + ", ".join(map(literal, names)) + "]"
    return f"{array}[if({number} BETWEEN 0 AND {len(names) - 1}, {number} + 1, 1)]"


def _columns() -> dict[str, str]:
    s = "span"
    return {
        "Timestamp": f"fromUnixTimestamp64Nano(toInt64({s}.start_time_unix_nano))",
        "TraceId": _hex_id(f"{s}.trace_id"),
        "SpanId": _hex_id(f"{s}.span_id"),
        "ParentSpanId": _hex_id(f"{s}.parent_span_id"),
        "TraceState": f"{s}.trace_state",
        "SpanName": f"{s}.name",
        "SpanKind": _name_of(SPAN_KINDS, f"{s}.kind"),
        "ServiceName": "service_name",
        "ResourceAttributes": "mapFromArrays(arrayMap(a -> a.key, resource_attributes), "
        "arrayMap(a -> a.value, resource_attributes))",
        "ScopeName": "scope.name",
        "ScopeVersion": "scope.version",
        "SpanAttributes": _map(f"{s}.attributes"),
        "Duration": f"if({s}.end_time_unix_nano > {s}.start_time_unix_nano, "
        f"{s}.end_time_unix_nano - {s}.start_time_unix_nano, 0)",
        "StatusCode": _name_of(STATUS_CODES, f"{s}.status.code"),
        "StatusMessage": f"{s}.status.message",
        "Events.Timestamp": f"arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), {s}.events)",
        "Events.Name": f"arrayMap(e -> e.name, {s}.events)",
        "Events.Attributes": f"arrayMap(e -> {_map('e.attributes', _scalar_string)}, {s}.events)",
        "Links.TraceId": f"arrayMap(l -> {_hex_id('l.trace_id')}, {s}.links)",
        "Links.SpanId": f"arrayMap(l -> {_hex_id('l.span_id')}, {s}.links)",
        "Links.TraceState": f"arrayMap(l -> l.trace_state, {s}.links)",
        "Links.Attributes": f"arrayMap(l -> {_map('l.attributes', _scalar_string)}, {s}.links)",
    }


# Read the whole batch as one block (so a throw stores nothing); without short-circuiting, which in
# lambdas costs more than evaluating every branch of these cheap expressions; the views of a table
# in parallel (an insert otherwise keeps one core busy while the other waits).
_SETTINGS = {
    "input_format_protobuf_oneof_presence": "1",
    "short_circuit_function_evaluation": "'disable'",
    "parallel_view_processing": "1",
    "max_block_size": "1000000",
    "min_insert_block_size_rows": "1000000",
    "min_insert_block_size_bytes": "0",
}


_PATH = "\x00path\x00"


@functools.lru_cache(maxsize=1)
def _insert_template() -> str:
    columns = _columns()
    assert tuple(columns) == TRACES_INSERT_COLUMNS
    select = ",\n    ".join(f"{expr} AS {ident(name)}" for name, expr in columns.items())
    settings = {"format_schema": literal(SCHEMA_FILE + ":SpanRow"), **_SETTINGS}
    return (
        f"INSERT INTO {ident(TRACES_TABLE)} ({', '.join(map(ident, columns))})\n"
        f"SELECT\n    {select}\n"
        f"FROM file({_PATH}, 'Protobuf', {literal(STRUCTURE)})\n"
        f"WHERE throwIf({_REPEATED_KEY}, {literal(NESTED_VALUE_ERROR)}) = 0\n"
        f"SETTINGS {', '.join(f'{k} = {v}' for k, v in settings.items())}"
    )


def insert_statement(path: str) -> str:
    """The INSERT that stores the length-delimited SpanRows in the file at `path`."""
    return _insert_template().replace(_PATH, literal(path))


def insert_span_rows(client: Any, data: Sequence[bytes]) -> None:
    """Insert length-delimited SpanRows (in pieces) into `otel_traces` of an embedded (chDB) store.

    The pieces go into one file per core (up to 8), which ClickHouse parses in parallel. Raises on
    failure: a throw (see the module docstring; nothing stored) or a store error.
    """
    files = max(1, min(len(data), os.cpu_count() or 1, 8))
    folder = tempfile.mkdtemp(prefix="llmobserve-spans-")
    try:
        for n in range(files):
            with open(os.path.join(folder, f"{n}.bin"), "wb") as out:
                out.writelines(data[n::files])
        client.command(insert_statement(os.path.join(folder, "*.bin")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
