"""Building OTLP export requests for the collector and rotel tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span

T0 = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z


def any_value(value: Any) -> AnyValue:
    """A Python value as an AnyValue: None is the empty AnyValue, a list an array, a dict a kvlist."""
    if value is None:
        return AnyValue()
    if isinstance(value, AnyValue):
        return value
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    if isinstance(value, dict):
        return AnyValue(kvlist_value=KeyValueList(values=kvs(value)))
    return AnyValue(string_value=str(value))


def kvs(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def make_span(
    n: int,
    attributes: dict[str, Any] | None = None,
    *,
    trace: int = 1,
    name: str = "call",
    start: int = T0,
) -> Span:
    return Span(
        trace_id=trace.to_bytes(16, "big"),
        span_id=n.to_bytes(8, "big"),
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1_000_000,
        attributes=kvs(attributes or {}),
    )


def make_request(*spans: Span, service: str = "agent") -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(kvs({"service.name": service}))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "tests"
    scope_spans.scope.version = "1"
    scope_spans.spans.extend(spans)
    return request
