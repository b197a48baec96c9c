"""An encoded ExportTraceServiceRequest -> length-delimited SpanRows for the store. Pure.

The fast path for protobuf requests into the embedded store: each span's bytes are copied out
untouched behind its resource (rendered once per request, as the exact path renders it) and scope
(`store/span_row.proto`), and ClickHouse renders the span's columns (`store/_span_rows.py`). Per
span, Python looks at bytes only: the 28 bytes of its ids and a few byte searches. Whatever the
bytes alone cannot settle returns None, and the caller takes the exact path (`_pipeline.request_rows`):

- a pinned attribute that may have the wrong type (`_validate.surely_valid`);
- a span whose ids are invalid or not first in canonical order (the exact path rejects or keeps it);
- anything unexpected in the outer framing.

A span is priced here when it may be a paid call (a `gen_ai.` or `llmobserve.` key in its bytes)
and lacks the canonical `llmobserve.cost.usd` and `llmobserve.cost.source` attribute fields: it is
decoded, priced as in the exact path, and re-encoded. The one way to fool that test is a string or
bytes attribute of the same span that embeds those two attribute encodings verbatim; the span is
then stored without a collector price (and reported as unpriced), never with a wrong one.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal import protobuf
from llmobserve_otel._internal.protobuf import varint
from llmobserve_otel.collector._pipeline import Pricer
from llmobserve_otel.collector._validate import surely_valid
from llmobserve_otel.store._rows import attributes_and_strings, attributes_dict, resource_fields, span_row

__all__ = ("SpanRows", "request_span_rows")

_PRICEABLE = (b"gen_ai.", b"llmobserve.")
# The attribute fields (Span field 9) a priced span carries, up to the value's tag.
_COST_FIELD = b"\x0a" + bytes([len(sc.COST_USD)]) + sc.COST_USD.encode() + b"\x12"
_SOURCE_FIELD = b"\x0a" + bytes([len(sc.COST_SOURCE)]) + sc.COST_SOURCE.encode() + b"\x12"


def _has_attribute(body: bytes, key_field: bytes, start: int, end: int) -> bool:
    # The span's own attribute (Span field 9, 'J' and a one-byte length before the key), not an
    # event's, a link's or a key-value list's of the same key; attributes come before those.
    at = body.find(key_field, start, end)
    return at >= start + 2 and body[at - 2] == 0x4A


class _Unsure(Exception):
    """The bytes do not settle it: take the exact path."""


@dataclass
class SpanRows:
    """What one or more requests turned into on the fast path: a chunk of the writer's queue."""

    data: list[bytes] = field(default_factory=list)
    """Length-delimited SpanRow messages, one per stored span, in pieces (one per request)."""
    keys: list[bytes] = field(default_factory=list)
    """trace_id + span_id of each stored span, to remember once accepted."""
    duplicates: int = 0

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def merge(cls, chunks: Sequence[SpanRows]) -> SpanRows:
        """One chunk holding all of `chunks` (the writer inserts it with one statement)."""
        merged = cls()
        for chunk in chunks:
            merged.data.extend(chunk.data)
            merged.keys.extend(chunk.keys)
            merged.duplicates += chunk.duplicates
        return merged

    def rows(self) -> list[tuple[Any, ...]]:
        """The `otel_traces` rows the exact path makes of these spans (for the Python insert)."""
        rows = []
        for piece in self.data:
            for _, start, end in _fields(piece, 0, len(piece), delimited=True):
                rows.append(_row(piece[start:end]))
        return rows


def _fields(buf: bytes, start: int, end: int, *, delimited: bool = False) -> list[tuple[int, int, int]]:
    """(field number, start, end) of the length-delimited fields in buf[start:end].

    `delimited`: buf holds length-delimited messages instead (field number 0).
    """
    found = []
    pos = start
    while pos < end:
        if delimited:
            tag = 2
        else:
            tag = buf[pos]
            pos += 1
        if tag & 0x80:
            raise _Unsure  # a field number over 15: not one of the outer OTLP messages' fields
        wire = tag & 7
        if wire == 2:
            length = shift = 0
            while True:
                byte = buf[pos]
                pos += 1
                length |= (byte & 0x7F) << shift
                if byte < 0x80:
                    break
                shift += 7
            found.append((tag >> 3, pos, pos + length))
            pos += length
        elif wire == 0:
            while buf[pos] & 0x80:
                pos += 1
            pos += 1
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _Unsure
    if pos != end:
        raise _Unsure
    return found


def _resource_fields(resource: bytes) -> bytes:
    """SpanRow fields 1 and 2: the service name and the resource attributes rendered as strings."""
    service_name, attributes = resource_fields(Resource.FromString(resource).attributes)
    pairs = b"".join(
        protobuf.field(b"\x12", protobuf.field(b"\x0a", k.encode()) + protobuf.field(b"\x12", v.encode()))
        for k, v in attributes.items()
    )
    return protobuf.field(b"\x0a", service_name.encode()) + pairs


def _row(row: bytes) -> tuple[Any, ...]:
    """The exact path's `otel_traces` row for one encoded SpanRow."""
    service_name = scope_name = scope_version = ""
    resource: dict[str, str] = {}
    span = Span()
    for number, start, end in _fields(row, 0, len(row)):
        value = row[start:end]
        if number == 1:
            service_name = value.decode()
        elif number == 2:
            pair = {n: value[s:e].decode() for n, s, e in _fields(value, 0, len(value))}
            resource[pair.get(1, "")] = pair.get(2, "")
        elif number == 3:
            scope = InstrumentationScope.FromString(value)
            scope_name, scope_version = scope.name, scope.version
        elif number == 4:
            span = Span.FromString(value)
    return span_row(
        span,
        service_name=service_name,
        resource_attributes=resource,
        scope_name=scope_name,
        scope_version=scope_version,
        span_attributes=attributes_and_strings(span.attributes)[1],
    )


def _any_value(value: object) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def _priced(span_bytes: bytes, pricer: Pricer) -> bytes:
    """The span with what the pricer adds (replacing attributes of the same keys), re-encoded."""
    span = Span.FromString(span_bytes)
    added = pricer(attributes_dict(span.attributes), span.start_time_unix_nano)
    if not added:
        return span_bytes
    kept = [kv for kv in span.attributes if kv.key not in added]
    del span.attributes[:]
    span.attributes.extend(kept)
    span.attributes.extend(KeyValue(key=k, value=_any_value(v)) for k, v in added.items())
    return span.SerializeToString()


def request_span_rows(
    body: bytes, *, pricer: Pricer | None = None, seen: Container[bytes] = frozenset()
) -> SpanRows | None:
    """SpanRows for a protobuf request the decoder accepted, or None to take the exact path.

    Drops spans whose key is in `seen` or repeated in the request (counted as duplicates), as the
    exact path does.
    """
    if not surely_valid(body):
        return None
    try:
        return _span_rows(body, pricer, seen)
    except (_Unsure, IndexError):
        return None


def _span_rows(body: bytes, pricer: Pricer | None, seen: Container[bytes]) -> SpanRows:
    rows = SpanRows()
    parts: list[bytes | memoryview] = []
    keys = rows.keys
    in_request: set[bytes] = set()
    view = memoryview(body)
    for number, start, end in _fields(body, 0, len(body)):
        if number != 1:  # ExportTraceServiceRequest.resource_spans
            continue
        resource = b""
        scopes = []
        for number2, start2, end2 in _fields(body, start, end):
            if number2 == 1:
                if resource:
                    raise _Unsure  # given twice: a protobuf reader merges the two
                resource = body[start2:end2]
            elif number2 == 2:
                scopes.append((start2, end2))
        resource_fields = _resource_fields(resource)
        for start2, end2 in scopes:
            scope = b""
            spans = []
            for number3, start3, end3 in _fields(body, start2, end2):
                if number3 == 1:
                    if scope:
                        raise _Unsure  # given twice: merged, as the resource
                    scope = body[start3:end3]
                elif number3 == 2:
                    spans.append((start3, end3))
            head = resource_fields + protobuf.field(b"\x1a", scope) + b"\x22"
            for s, e in spans:
                # Canonical ids: trace_id (field 1, 16 bytes) then span_id (field 2, 8 bytes).
                if (
                    e - s < 28
                    or body[s] != 0x0A
                    or body[s + 1] != 16
                    or body[s + 18] != 0x12
                    or body[s + 19] != 8
                ):
                    raise _Unsure
                key = body[s + 2 : s + 18] + body[s + 20 : s + 28]
                if not key[:16].strip(b"\x00") or not key[16:].strip(b"\x00"):
                    raise _Unsure  # an all-zero id: the exact path rejects it with its reason
                if key in in_request or key in seen:
                    rows.duplicates += 1
                    continue
                in_request.add(key)
                span: bytes | memoryview = view[s:e]
                if (
                    pricer is not None
                    and not (
                        _has_attribute(body, _COST_FIELD, s, e) and _has_attribute(body, _SOURCE_FIELD, s, e)
                    )
                    and (body.find(_PRICEABLE[0], s, e) >= 0 or body.find(_PRICEABLE[1], s, e) >= 0)
                ):
                    span = _priced(body[s:e], pricer)
                size = varint(len(span))
                parts += (varint(len(head) + len(size) + len(span)), head, size, span)
                keys.append(key)
    rows.data.append(b"".join(parts))
    return rows
