"""The proxy's span export: OTLP protobuf written directly, bytes identical to the stock encoder's.

Why: the stock encoder (`opentelemetry.exporter.otlp.proto.common`) builds a protobuf object per
attribute and value, 60-100 µs a span; at a few thousand calls a second that was a fifth of the
proxy's CPU, spent holding the GIL in bursts of a whole batch (512 spans, ~50 ms) during which every
request in flight waited. Written field by field here, with the encoded attribute keys and the
repeated string attributes (provider, operation, host, model) cached, a proxy span takes a few µs.

Same output as the stock encoder, byte for byte (`tests/proxy/test_proxy_otlp.py` compares them):
fields in field-number order, proto3 defaults omitted, a `None` attribute value an empty AnyValue.
A span this encoder cannot write (an attribute value of an unknown type, an int outside int64)
goes through the stock encoder instead, which logs and skips what it cannot encode.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from llmobserve_otel._internal.protobuf import SMALL as _SMALL
from llmobserve_otel._internal.protobuf import field as _field
from llmobserve_otel._internal.protobuf import varint as _varint

_log = logging.getLogger("llmobserve_otel.proxy")

_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

# Field tags (field number << 3 | wire type) of the OTLP messages written here.
_SPAN_TRACE_ID, _SPAN_SPAN_ID, _SPAN_TRACE_STATE, _SPAN_PARENT = b"\x0a", b"\x12", b"\x1a", b"\x22"
_SPAN_NAME, _SPAN_KIND, _SPAN_START, _SPAN_END = b"\x2a", b"\x30", b"\x39", b"\x41"
_SPAN_ATTRIBUTE, _SPAN_DROPPED_ATTRIBUTES, _SPAN_EVENT, _SPAN_DROPPED_EVENTS = (
    b"\x4a",
    b"\x50",
    b"\x5a",
    b"\x60",
)
_SPAN_LINK, _SPAN_DROPPED_LINKS, _SPAN_STATUS, _SPAN_FLAGS = b"\x6a", b"\x70", b"\x7a", b"\x85\x01"
# Span flags: whether the parent is remote is known (0x100), and it is (0x200).
_FLAGS_LOCAL, _FLAGS_REMOTE = _pack_fixed32(0x100), _pack_fixed32(0x300)


def _text(tag: bytes, value: str) -> bytes:
    return _field(tag, value.encode())


def _any_value(value: Any) -> bytes:
    """The AnyValue message's content (stock `_encode_value`: the same type checks in the same order)."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _text(b"\x0a", value)
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"int attribute out of int64 range: {value}")
        return b"\x18" + _varint(value)
    if isinstance(value, float):
        return b"\x21" + _pack_double(value)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, Sequence):
        return _field(b"\x2a", b"".join(_field(b"\x0a", _any_value(v)) for v in value))
    if isinstance(value, Mapping):
        return _field(b"\x32", b"".join(_field(b"\x0a", _key_value(str(k), v)) for k, v in value.items()))
    raise TypeError(f"attribute value of type {type(value).__name__}")


def _key_value(key: str, value: Any) -> bytes:
    return _text(b"\x0a", key) + _field(b"\x12", _any_value(value))


def _scope(scope: Any) -> bytes:
    if scope is None:
        return b""
    parts = []
    if scope.name:
        parts.append(_text(b"\x0a", scope.name))
    if scope.version:
        parts.append(_text(b"\x12", scope.version))
    for key, value in (scope.attributes or {}).items():
        parts.append(_field(b"\x1a", _key_value(key, value)))
    return b"".join(parts)


class SpanEncoder:
    """ExportTraceServiceRequest bytes from SDK spans; holds the caches, so keep one per exporter."""

    _MAX_CACHED = 4096
    PAUSE_EVERY = 16
    """Spans encoded between two `pause()` calls (~0.25 ms of work)."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        """Attribute key -> the KeyValue's key field, encoded."""
        self._strings: dict[tuple[bytes, str, str], bytes] = {}
        """(tag, key, short str value) -> the whole attribute field (provider, host, model, ...)."""
        self._resources: dict[int, tuple[Any, bytes]] = {}

    def encode(self, spans: Sequence[ReadableSpan], pause: Callable[[], Any] | None = None) -> bytes:
        """The ExportTraceServiceRequest of `spans`; `pause()` is called every `PAUSE_EVERY` spans."""
        # Resource -> scope -> spans, in first-seen order, equal resources together (as the stock
        # encoder's dict does). By identity first: hashing a Resource serializes its attributes to JSON.
        groups: list[tuple[Any, dict[Any, list[bytes]]]] = []
        last: Any = None
        by_scope: dict[Any, list[bytes]] = {}
        for index, span in enumerate(spans):
            if pause is not None and index and not index % self.PAUSE_EVERY:
                pause()
            resource = span.resource
            if resource is not last or not groups:
                found = next((g for r, g in groups if r is resource or r == resource), None)
                if found is None:
                    found = {}
                    groups.append((resource, found))
                by_scope, last = found, resource
            by_scope.setdefault(span.instrumentation_scope or None, []).append(self._span(span))
        out = []
        for resource, scopes in groups:
            body = [_field(b"\x0a", self._resource(resource))]
            for scope, encoded in scopes.items():
                scope_spans = [_field(b"\x0a", _scope(scope))]
                scope_spans += encoded
                if scope is not None and scope.schema_url:
                    scope_spans.append(_text(b"\x1a", scope.schema_url))
                body.append(_field(b"\x12", b"".join(scope_spans)))
            if resource.schema_url:
                body.append(_text(b"\x1a", resource.schema_url))
            out.append(_field(b"\x0a", b"".join(body)))
        return b"".join(out)

    def _resource(self, resource: Any) -> bytes:
        cached = self._resources.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        encoded = b"".join(_field(b"\x0a", _key_value(k, v)) for k, v in resource.attributes.items())
        self._resources[id(resource)] = (resource, encoded)
        return encoded

    def _attributes(self, tag: bytes, attributes: Mapping[str, Any] | None) -> list[bytes]:
        if not attributes:
            return []
        keys, strings = self._keys, self._strings
        parts = []
        # The SDK's BoundedAttributes is a MutableMapping whose items() goes through the generic ABC
        # view (a method call per key); its plain dict is read directly when it has one.
        plain = getattr(attributes, "_dict", None)
        for key, value in (plain if isinstance(plain, dict) else attributes).items():
            if type(value) is str and len(value) <= 256:
                field = strings.get((tag, key, value))
                if field is None:
                    field = _field(tag, _key_value(key, value))
                    if len(strings) >= self._MAX_CACHED:
                        strings.clear()
                    strings[(tag, key, value)] = field
                parts.append(field)
                continue
            encoded_key = keys.get(key)
            if encoded_key is None:
                if len(keys) >= self._MAX_CACHED:
                    keys.clear()
                encoded_key = keys[key] = _text(b"\x0a", key)
            if type(value) is int and 0 <= value <= _INT64_MAX:  # counts, status codes, ports: inline
                encoded = _varint(value)
                kv = encoded_key + b"\x12" + _SMALL[len(encoded) + 1] + b"\x18" + encoded
            else:
                kv = encoded_key + _field(b"\x12", _any_value(value))
            parts.append(tag + _varint(len(kv)) + kv)
        return parts

    def _span(self, span: ReadableSpan) -> bytes:
        try:
            return _field(b"\x12", self._span_fields(span))
        except (TypeError, ValueError, UnicodeError, AttributeError) as exc:
            _log.debug("llmobserve proxy: span %r through the stock encoder: %s", span.name, exc)
            return _field(b"\x12", _stock_span(span))

    def _span_fields(self, span: ReadableSpan) -> bytes:
        context = span.get_span_context()
        parent = span.parent
        parts = [
            _SPAN_TRACE_ID + b"\x10" + context.trace_id.to_bytes(16, "big"),
            _SPAN_SPAN_ID + b"\x08" + context.span_id.to_bytes(8, "big"),
        ]
        if context.trace_state:
            trace_state = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
            parts.append(_text(_SPAN_TRACE_STATE, trace_state))
        if parent is not None:
            parts.append(_SPAN_PARENT + b"\x08" + parent.span_id.to_bytes(8, "big"))
        if span.name:
            parts.append(_text(_SPAN_NAME, span.name))
        parts.append(_SPAN_KIND + _SMALL[span.kind.value + 1])
        if span.start_time:
            parts.append(_SPAN_START + _pack_fixed64(span.start_time))
        if span.end_time:
            parts.append(_SPAN_END + _pack_fixed64(span.end_time))
        parts += self._attributes(_SPAN_ATTRIBUTE, span.attributes)
        if span.dropped_attributes:
            parts.append(_SPAN_DROPPED_ATTRIBUTES + _varint(span.dropped_attributes))
        for event in span.events:
            fields = [b"\x09" + _pack_fixed64(event.timestamp)] if event.timestamp else []
            if event.name:
                fields.append(_text(b"\x12", event.name))
            fields += self._attributes(b"\x1a", event.attributes)
            if event.dropped_attributes:
                fields.append(b"\x20" + _varint(event.dropped_attributes))
            parts.append(_field(_SPAN_EVENT, b"".join(fields)))
        if span.dropped_events:
            parts.append(_SPAN_DROPPED_EVENTS + _varint(span.dropped_events))
        for link in span.links:
            fields = [
                b"\x0a\x10" + link.context.trace_id.to_bytes(16, "big"),
                b"\x12\x08" + link.context.span_id.to_bytes(8, "big"),
            ]
            fields += self._attributes(b"\x22", link.attributes)
            if link.dropped_attributes:
                fields.append(b"\x28" + _varint(link.dropped_attributes))
            fields.append(b"\x35" + (_FLAGS_REMOTE if link.context.is_remote else _FLAGS_LOCAL))
            parts.append(_field(_SPAN_LINK, b"".join(fields)))
        if span.dropped_links:
            parts.append(_SPAN_DROPPED_LINKS + _varint(span.dropped_links))
        status = span.status
        if status is not None:
            fields = []
            if status.description:
                fields.append(_text(b"\x12", status.description))
            if status.status_code.value:
                fields.append(b"\x18" + _SMALL[status.status_code.value])
            parts.append(_field(_SPAN_STATUS, b"".join(fields)))
        parts.append(
            _SPAN_FLAGS + (_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
        )
        return b"".join(parts)


def _stock_span(span: ReadableSpan) -> bytes:
    from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import _encode_span

    return bytes(_encode_span(span).SerializeToString())


class OTLPSpanExporter(SpanExporter):
    """The stock OTLP/HTTP span exporter (endpoint, headers, compression, retries from OTEL_*) with
    the batch encoded by `SpanEncoder`.

    The encoded bytes go through the stock exporter's HTTP client (`_client.export`, present since
    opentelemetry-exporter-otlp-proto-http 1.40); with an exporter without it, the stock `export`
    runs as it is.
    """

    def __init__(self) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Stock

        self._stock = Stock()
        client = getattr(self._stock, "_client", None)
        self._client = client if callable(getattr(client, "export", None)) else None
        self._encoder = SpanEncoder()
        self._shutdown = False

    # The export thread and the event loop share the GIL (and, pinned, one CPU). A thread that wants
    # the GIL waits up to the switch interval (1 ms in the proxy) for the holder to let go, so a batch
    # encoded in one go delays every step of every request in flight by up to 1 ms until it is done.
    # Letting go of the GIL and the CPU every few spans (sched_yield releases both) hands them to the
    # loop at once when it is waiting; when it is not, the call returns at once.
    _pause = staticmethod(getattr(os, "sched_yield", lambda: None))

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._client is None or self._shutdown:
            return self._stock.export(spans)
        try:
            data = self._encoder.encode(spans, self._pause)
        except Exception:  # never expected (unencodable spans take the stock path); the batch still goes
            _log.exception("llmobserve proxy: span batch through the stock encoder")
            return self._stock.export(spans)
        result = self._client.export(data)
        return SpanExportResult.SUCCESS if getattr(result, "success", False) else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self._stock.force_flush(timeout_millis))

    def shutdown(self) -> None:
        self._shutdown = True
        self._stock.shutdown()
