"""Building OTLP export requests for the collector and rotel tests (imported by the test modules)."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import TRACES_INSERT_COLUMNS

T0 = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z

M = 1_000_000
# gpt-4o, 1000 input and 500 output tokens: 1000 * $2.5 + 500 * $10 per million = $0.0075.
GPT_4O_COST = (1000 * 2.5 + 500 * 10) / M
UNPRICED_CALL = {
    sc.PROVIDER: "openai",
    sc.GEN_AI_PROVIDER_NAME: "openai",
    sc.OPERATION: "chat",
    sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
    sc.GEN_AI_RESPONSE_MODEL: "gpt-4o",
    sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS: 500,
}
"""A gpt-4o call's span attributes as an instrumentation without pricing writes them."""
SDK_CALL = {
    **UNPRICED_CALL,
    sc.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
    sc.CUSTOMER_ID: "acme",
    sc.SECTION_PATH: "agent:research/step:plan",
    sc.COST_USD: GPT_4O_COST,
    sc.COST_SOURCE: "sdk",
    sc.COST_STATUS: "priced",
}
"""The same call as our SDK exports it: priced, attributed to a customer and a section."""


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


# Reading rows back: every `otel_traces` insert column, timestamps as integer nanoseconds (a
# DateTime64 read back as datetime drops them), to compare with the rows the Python path makes.
STORED_COLUMNS = ", ".join(
    "toUnixTimestamp64Nano(Timestamp)"
    if c == "Timestamp"
    else "arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`)"
    if c == "Events.Timestamp"
    else f"`{c}`"
    for c in TRACES_INSERT_COLUMNS
)
