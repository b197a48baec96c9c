"""OTLP/HTTP wire format: content types, bounded gzip, protobuf and OTLP-JSON decoding, responses."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from span_factory import make_request, make_span

from llmobserve_otel.collector._otlp import (
    JSON,
    PROTOBUF,
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    decode_traces,
    decompress,
    encode_status,
    media_type,
    traces_response,
)


@pytest.mark.parametrize(
    ("header", "media"),
    [
        ("application/x-protobuf", PROTOBUF),
        ("application/protobuf", PROTOBUF),
        ("Application/X-Protobuf; charset=binary", PROTOBUF),
        ("application/json", JSON),
        ("application/json; charset=utf-8", JSON),
    ],
)
def test_media_types(header: str, media: str) -> None:
    assert media_type(header) == media


@pytest.mark.parametrize("header", [None, "", "text/plain", "application/grpc", "application/jsonx"])
def test_other_media_types_are_415(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as info:
        media_type(header)
    assert info.value.status == 415


def test_gzip_and_deflate_round_trip() -> None:
    body = b"x" * 1000
    assert decompress(gzip.compress(body), "gzip", 1000) == body
    assert decompress(zlib.compress(body), "deflate", 1000) == body
    assert decompress(body, None, 1000) == body
    assert decompress(body, "identity", 1000) == body


def test_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in ~50 KB
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLarge, match="decompressed request body over 1000000 bytes") as info:
        decompress(bomb, "gzip", 1_000_000)
    assert info.value.status == 413


def test_bad_compressed_bodies() -> None:
    with pytest.raises(BadRequest, match="invalid gzip body"):
        decompress(b"not gzip at all", "gzip", 1000)
    with pytest.raises(BadRequest, match="truncated gzip body"):
        decompress(gzip.compress(b"y" * 500)[:-10], "gzip", 1000)
    with pytest.raises(UnsupportedMediaType, match="content encoding 'br'"):
        decompress(b"", "br", 1000)
    with pytest.raises(PayloadTooLarge):
        decompress(b"z" * 1001, None, 1000)


def test_protobuf_decodes() -> None:
    request = make_request(make_span(1, {"a": 1}))
    assert decode_traces(request.SerializeToString(), PROTOBUF) == request


@pytest.mark.parametrize("body", [b"\xff\xff\xff", b"\x0a\x05abc", b"garbage that is not protobuf \x00\x01"])
def test_malformed_protobuf_is_400(body: bytes) -> None:
    with pytest.raises(BadRequest, match="malformed protobuf"):
        decode_traces(body, PROTOBUF)


OTLP_JSON = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
            "scopeSpans": [
                {
                    "scope": {"name": "tests", "version": "1"},
                    "spans": [
                        {
                            "traceId": "5b8efff798038103d269b633813fc60c",
                            "spanId": "eee19b7ec3c1b174",
                            "parentSpanId": "eee19b7ec3c1b173",
                            "name": "chat gpt-4o",
                            "kind": 3,
                            "startTimeUnixNano": "1735725600000000000",
                            "endTimeUnixNano": 1735725601000000000,
                            "attributes": [
                                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
                                {"key": "llmobserve.cost.usd", "value": {"doubleValue": 0.01}},
                                {"key": "flag", "value": {"boolValue": True}},
                                {"key": "list", "value": {"arrayValue": {"values": [{"intValue": 1}]}}},
                            ],
                            "links": [
                                {"traceId": "5b8efff798038103d269b633813fc60d", "spanId": "eee19b7ec3c1b175"}
                            ],
                            "status": {"code": 2, "message": "boom"},
                            "somethingFromTheFuture": {"ignored": True},
                        }
                    ],
                }
            ],
        }
    ]
}


def test_otlp_json_uses_hex_ids_and_enum_ints() -> None:
    request = decode_traces(json.dumps(OTLP_JSON).encode(), JSON)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert span.span_id.hex() == "eee19b7ec3c1b174"
    assert span.parent_span_id.hex() == "eee19b7ec3c1b173"
    assert span.links[0].trace_id.hex() == "5b8efff798038103d269b633813fc60d"
    assert (span.kind, span.status.code, span.status.message) == (3, 2, "boom")
    assert span.start_time_unix_nano == 1735725600000000000 and span.end_time_unix_nano == 1735725601000000000
    assert span.attributes[0].value.int_value == 1000
    assert span.attributes[1].value.double_value == 0.01


def test_otlp_json_bad_hex_id_leaves_the_span_to_be_rejected() -> None:
    document = json.loads(json.dumps(OTLP_JSON))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "not-hex"
    span = decode_traces(json.dumps(document).encode(), JSON).resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == b""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[]", "the body must be an object"),
        (b'{"resourceSpans": {}}', "resourceSpans must be an array"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": ["x"]}]}]}', "a span or link must be an object"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": '
            b'[{"key": "n", "value": {"intValue": "many"}}]}]}]}]}',
            "malformed OTLP JSON",
        ),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "yesterday"}]}]}]}',
            "malformed OTLP JSON",
        ),
    ],
)
def test_malformed_otlp_json_is_400(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        decode_traces(body, JSON)


def test_responses_in_the_request_encoding() -> None:
    assert traces_response(PROTOBUF) == b""
    assert traces_response(JSON) == b"{}"
    partial = ExportTraceServiceResponse.FromString(traces_response(PROTOBUF, 2, "bad ids"))
    assert (partial.partial_success.rejected_spans, partial.partial_success.error_message) == (2, "bad ids")
    assert json.loads(traces_response(JSON, 2, "bad ids")) == {
        "partialSuccess": {"rejectedSpans": "2", "errorMessage": "bad ids"}
    }
    status = status_pb2.Status.FromString(encode_status(PROTOBUF, 400, "nope"))
    assert (status.code, status.message) == (3, "nope")
    assert json.loads(encode_status(JSON, 503, "later")) == {"code": 14, "message": "later"}
