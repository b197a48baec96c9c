"""A realistic provider-call span (21 attributes, as our SDK emits them), in OTLP requests.

Shared by the ingest and query benchmarks.
"""

from __future__ import annotations

import os
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

CUSTOMERS = 40
SECTIONS = (
    "agent:research/step:plan",
    "agent:research/step:plan/tool:search",
    "agent:research/step:write",
    "agent:support/step:classify",
    "agent:support/step:draft",
    "agent:support/step:review/tool:lookup",
)
MODELS = (("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-sonnet-4-5"))


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def export_request(
    n_spans: int = 512, seed: int = 0, start_ns: int | None = None
) -> ExportTraceServiceRequest:
    """One OTLP request of `n_spans` provider-call spans with fresh random ids."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        [
            _kv("service.name", "support-agent"),
            _kv("service.version", "1.4.2"),
            _kv("deployment.environment.name", "production"),
            _kv("host.name", "web-7"),
            _kv("telemetry.sdk.language", "python"),
            _kv("telemetry.sdk.name", "opentelemetry"),
            _kv("telemetry.sdk.version", "1.38.0"),
        ]
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "llmobserve_otel"
    scope_spans.scope.version = "0.1.0"
    t0 = start_ns if start_ns is not None else time.time_ns()
    for i in range(n_spans):
        k = seed * n_spans + i
        provider, model = MODELS[k % len(MODELS)]
        span = scope_spans.spans.add()
        span.trace_id = os.urandom(16)
        span.span_id = os.urandom(8)
        span.parent_span_id = os.urandom(8)
        span.name = f"chat {model}"
        span.kind = 3
        span.start_time_unix_nano = t0 + i * 1000
        span.end_time_unix_nano = span.start_time_unix_nano + 1_234_000_000
        input_tokens = 800 + k % 700
        span.attributes.extend(
            [
                _kv("llmobserve.provider", provider),
                _kv("llmobserve.operation", "chat"),
                _kv("llmobserve.capture", "wire"),
                _kv("gen_ai.provider.name", provider),
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.request.model", model),
                _kv("gen_ai.response.model", model + "-2025-01-01"),
                _kv("gen_ai.response.id", f"resp_{k:012d}"),
                KeyValue(
                    key="gen_ai.response.finish_reasons",
                    value=AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="stop")])),
                ),
                _kv("gen_ai.usage.input_tokens", input_tokens),
                _kv("gen_ai.usage.output_tokens", 150 + k % 300),
                _kv("gen_ai.usage.cache_read.input_tokens", 256 if k % 3 == 0 else 0),
                _kv("llmobserve.cost.usd", round(input_tokens * 2.5e-6 + 0.0015, 8)),
                _kv("llmobserve.cost.source", "sdk"),
                _kv("llmobserve.cost.status", "priced"),
                _kv("llmobserve.customer.id", f"customer-{k % CUSTOMERS:03d}"),
                _kv("llmobserve.section.path", SECTIONS[k % len(SECTIONS)]),
                _kv("http.request.method", "POST"),
                _kv("http.response.status_code", 200),
                _kv("server.address", "api.example.com"),
                _kv("url.full", "https://api.example.com/v1/chat/completions"),
            ]
        )
    return request
