"""OTLP/HTTP wire format: bounded decompression, request decoding, response encoding. Pure.

Follows the OTLP/HTTP specification: a request body is a protobuf-encoded
`ExportTraceServiceRequest` (`application/x-protobuf`) or its OTLP-JSON form (`application/json`:
proto3 JSON with trace and span ids as hex instead of base64), optionally gzip-compressed. A
response uses the request's content type; success carries an `Export*ServiceResponse` (with
`partial_success` when spans were rejected), failure a `google.rpc.Status`.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

__all__ = (
    "JSON",
    "PROTOBUF",
    "BadRequest",
    "OtlpError",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "decode_traces",
    "decompress",
    "encode_message",
    "encode_status",
    "media_type",
    "traces_response",
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class OtlpError(Exception):
    """A request the collector refuses as a whole; `status` is the HTTP status to answer.

    OtlpError
     ├── BadRequest            400: undecodable body, invalid attribute types
     ├── PayloadTooLarge       413: body (or its decompressed form) over the limit
     └── UnsupportedMediaType  415: neither protobuf nor JSON, or an unknown encoding
    """

    status = 400


class BadRequest(OtlpError):
    status = 400


class PayloadTooLarge(OtlpError):
    status = 413


class UnsupportedMediaType(OtlpError):
    status = 415


def media_type(content_type: str | None) -> str:
    """The request's OTLP encoding (`PROTOBUF` or `JSON`) from its Content-Type header."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if value == JSON:
        return JSON
    raise UnsupportedMediaType(f"unsupported content type {content_type!r}: send {PROTOBUF} or {JSON}")


def decompress(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with its Content-Encoding undone, never inflating past `limit` bytes.

    A gzip bomb stops at `limit + 1` bytes of output, so memory stays bounded whatever the ratio.
    """
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaType(f"unsupported content encoding {content_encoding!r}: use gzip")
    # wbits: 16+ for the gzip wrapper, plain MAX_WBITS for zlib-wrapped deflate.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"invalid {encoding} body: {exc}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed request body over {limit} bytes")
    if not inflater.eof:
        raise BadRequest(f"truncated {encoding} body")
    return data


def decode_traces(body: bytes, media: str) -> ExportTraceServiceRequest:
    """Decode an ExportTraceServiceRequest; raises BadRequest with the reason."""
    request = ExportTraceServiceRequest()
    if media == PROTOBUF:
        try:
            request.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise BadRequest(f"malformed protobuf ExportTraceServiceRequest: {exc}") from None
        return request
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest("malformed OTLP JSON: the body must be an object")
    try:
        _hex_ids_to_base64(document)
        # The spec tells receivers to ignore unknown fields (forward compatibility).
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, AttributeError, ValueError) as exc:
        raise BadRequest(f"malformed OTLP JSON: {exc}") from None
    return request


# OTLP JSON keys holding ids, in either spelling proto3 JSON accepts.
_ID_KEYS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    # OTLP JSON writes ids as hex, proto3 JSON (which json_format speaks) as base64. An id that is
    # not hex becomes empty, so the span is rejected for its id instead of failing the request.
    for resource_spans in _items(document, "resourceSpans", "resource_spans"):
        for scope_spans in _items(resource_spans, "scopeSpans", "scope_spans"):
            for span in _items(scope_spans, "spans"):
                _fix_ids(span)
                for link in _items(span, "links"):
                    _fix_ids(link)


def _items(parent: Any, *keys: str) -> list[Any]:
    if not isinstance(parent, dict):
        raise BadRequest("malformed OTLP JSON: expected an object")
    for key in keys:
        value = parent.get(key)
        if value is not None:
            if not isinstance(value, list):
                raise BadRequest(f"malformed OTLP JSON: {key} must be an array")
            return value
    return []


def _fix_ids(item: Any) -> None:
    if not isinstance(item, dict):
        raise BadRequest("malformed OTLP JSON: a span or link must be an object")
    for key in _ID_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value:
            try:
                item[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            except ValueError:
                item[key] = ""


def encode_message(message: Message, media: str) -> bytes:
    """A protobuf message in the response encoding."""
    if media == JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def traces_response(media: str, rejected: int = 0, error_message: str = "") -> bytes:
    """An ExportTraceServiceResponse; `partial_success` only when something was rejected."""
    response = ExportTraceServiceResponse()
    if rejected or error_message:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = error_message
    return encode_message(response, media)


def encode_status(media: str, http_status: int, message: str) -> bytes:
    """A google.rpc.Status error body (the OTLP/HTTP failure response)."""
    # gRPC code for the HTTP status: 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE,
    # 16 UNAUTHENTICATED, 13 INTERNAL.
    code = {400: 3, 401: 16, 413: 3, 415: 3, 429: 8, 503: 14}.get(http_status, 13)
    return encode_message(status_pb2.Status(code=code, message=message), media)
