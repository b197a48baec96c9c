"""OTLP span -> otel_traces row, as the contrib ClickHouse exporter writes it (no database)."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from llmobserve_otel.store import TRACES_INSERT_COLUMNS
from llmobserve_otel.store._rows import (
    attribute_string,
    attributes_dict,
    format_double,
    resource_fields,
    span_row,
    string_map,
)

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN = bytes.fromhex("b7ad6b7169203331")
PARENT = bytes.fromhex("00f067aa0ba902b7")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),  # strconv.AppendFloat(-0.0, 'f', -1, 64) in pdata's float64AsString
        (1.0, "1"),
        (-2.0, "-2"),
        (0.00725, "0.00725"),
        (1.5, "1.5"),
        (1e-7, "1e-7"),
        (1.25e-7, "1.25e-7"),
        (0.000001, "0.000001"),
        (0.0001, "0.0001"),
        (1e16, "10000000000000000"),
        (1.5e20, "150000000000000000000"),
        (1e21, "1e+21"),
        (123456.789, "123456.789"),
        (float("nan"), "json: unsupported value: NaN"),
        (float("inf"), "json: unsupported value: +Inf"),
    ],
)
def test_doubles_render_as_pdata_does(value: float, text: str) -> None:
    assert format_double(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (2.5, "2.5"),
        (b"\x00\x01\xff", "AAH/"),
        (None, ""),
        (["a", 1, 2.0, True, None], '["a",1,2,true,null]'),
        ({"b": 1, "a": ["<x>"]}, '{"a":["\\u003cx\\u003e"],"b":1}'),
        ({"k": b"\x01"}, '{"k":"AQ=="}'),
    ],
)
def test_attribute_values_render_as_pdata_as_string(value: object, text: str) -> None:
    assert attribute_string(value) == text


def _kv(key: str, **value: object) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def test_attributes_become_python_values_then_strings() -> None:
    kvs = [
        _kv("s", string_value="x"),
        _kv("i", int_value=3),
        _kv("d", double_value=0.5),
        _kv("b", bool_value=True),
        _kv("raw", bytes_value=b"\x01"),
        _kv("arr", array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="y")])),
        _kv("map", kvlist_value=KeyValueList(values=[_kv("z", int_value=1), _kv("a", bool_value=False)])),
        KeyValue(key="empty"),
        _kv("s", string_value="last wins"),
    ]
    values = attributes_dict(kvs)
    assert values == {
        "s": "last wins",
        "i": 3,
        "d": 0.5,
        "b": True,
        "raw": b"\x01",
        "arr": [1, "y"],
        "map": {"z": 1, "a": False},
        "empty": None,
    }
    assert string_map(values) == {
        "s": "last wins",
        "i": "3",
        "d": "0.5",
        "b": "true",
        "raw": "AQ==",
        "arr": '[1,"y"]',
        "map": '{"a":false,"z":1}',
        "empty": "",
    }


def test_resource_gives_service_name_and_string_attributes() -> None:
    service, attrs = resource_fields([_kv("service.name", string_value="agent"), _kv("pid", int_value=12)])
    assert service == "agent"
    assert attrs == {"service.name": "agent", "pid": "12"}
    assert resource_fields([]) == ("", {})


def test_span_row_matches_the_exporter_columns() -> None:
    span = Span(
        trace_id=TRACE,
        span_id=SPAN,
        parent_span_id=PARENT,
        trace_state="k=v",
        name="chat gpt-4o",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=1_700_000_000_123_456_789,
        end_time_unix_nano=1_700_000_001_123_456_789,
        status=Status(code=Status.STATUS_CODE_ERROR, message="boom"),
        events=[
            Span.Event(
                time_unix_nano=1_700_000_000_500_000_000, name="retry", attributes=[_kv("n", int_value=1)]
            )
        ],
        links=[
            Span.Link(
                trace_id=TRACE, span_id=PARENT, trace_state="a=b", attributes=[_kv("l", bool_value=True)]
            )
        ],
    )
    row = span_row(
        span,
        service_name="agent",
        resource_attributes={"service.name": "agent"},
        scope_name="llmobserve_otel",
        scope_version="0.1.0",
        span_attributes={"gen_ai.request.model": "gpt-4o"},
    )
    assert dict(zip(TRACES_INSERT_COLUMNS, row, strict=True)) == {
        "Timestamp": 1_700_000_000_123_456_789,
        "TraceId": "0af7651916cd43dd8448eb211c80319c",
        "SpanId": "b7ad6b7169203331",
        "ParentSpanId": "00f067aa0ba902b7",
        "TraceState": "k=v",
        "SpanName": "chat gpt-4o",
        "SpanKind": "Client",
        "ServiceName": "agent",
        "ResourceAttributes": {"service.name": "agent"},
        "ScopeName": "llmobserve_otel",
        "ScopeVersion": "0.1.0",
        "SpanAttributes": {"gen_ai.request.model": "gpt-4o"},
        "Duration": 1_000_000_000,
        "StatusCode": "Error",
        "StatusMessage": "boom",
        "Events.Timestamp": (1_700_000_000_500_000_000,),
        "Events.Name": ("retry",),
        "Events.Attributes": ({"n": "1"},),
        "Links.TraceId": ("0af7651916cd43dd8448eb211c80319c",),
        "Links.SpanId": ("00f067aa0ba902b7",),
        "Links.TraceState": ("a=b",),
        "Links.Attributes": ({"l": "true"},),
    }


def test_root_span_defaults() -> None:
    span = Span(trace_id=TRACE, span_id=SPAN, name="root", start_time_unix_nano=10, end_time_unix_nano=5)
    values = span_row(
        span, service_name="", resource_attributes={}, scope_name="", scope_version="", span_attributes={}
    )
    row = dict(zip(TRACES_INSERT_COLUMNS, values, strict=True))
    # All-zero parent id -> '' (TraceIDToHexOrEmptyString); end before start -> 0, not a wrap.
    assert (row["ParentSpanId"], row["SpanKind"], row["StatusCode"], row["Duration"]) == (
        "",
        "Unspecified",
        "Unset",
        0,
    )
    assert row["Events.Name"] == () and row["Links.TraceId"] == ()
