"""The proxy's own OTLP span encoder writes the same bytes as the stock encoder, and its exporter sends
them through the stock OTLP/HTTP client to a real receiver on 127.0.0.1."""

from __future__ import annotations

import logging

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from llmobserve_otel.proxy._otlp import OTLPSpanExporter, SpanEncoder

REMOTE_PARENT = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    True,
    TraceFlags(1),
    TraceState([("vendor", "v1")]),
)


def _recorder(resource: Resource | None = None) -> tuple[TracerProvider, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource or Resource.create({"service.name": "llmobserve-proxy"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def _proxy_span(provider: TracerProvider, response_id: str) -> None:
    """A span shaped like the proxy's chat call: start attributes, then usage at the end."""
    tracer = provider.get_tracer("llmobserve_otel.proxy", "0.1.0")
    span = tracer.start_span(
        "chat gpt-4o-mini",
        kind=SpanKind.CLIENT,
        context=set_span_in_context(NonRecordingSpan(REMOTE_PARENT)),
        attributes={
            "llmobserve.provider": "openai",
            "llmobserve.operation": "chat",
            "http.request.method": "POST",
            "server.address": "api.openai.com",
            "server.port": 443,
            "url.full": "https://api.openai.com/v1/chat/completions",
            "gen_ai.request.model": "gpt-4o-mini",
            "llmobserve.customer.id": "cust-42",
        },
    )
    span.set_attributes(
        {
            "http.response.status_code": 200,
            "gen_ai.usage.input_tokens": 14,
            "gen_ai.usage.output_tokens": 24,
            "gen_ai.response.id": response_id,
            "gen_ai.response.finish_reasons": ("stop",),
        }
    )
    span.end()


def test_proxy_spans_encode_to_the_stock_bytes():
    provider, memory = _recorder()
    for i in range(3):
        _proxy_span(provider, f"chatcmpl-{i}")
    spans = memory.get_finished_spans()
    encoder = SpanEncoder()
    stock = encode_spans(spans).SerializePartialToString()
    assert encoder.encode(spans) == stock
    assert encoder.encode(spans) == stock  # again, from the caches
    decoded = ExportTraceServiceRequest.FromString(encoder.encode(spans))
    span = decoded.resource_spans[0].scope_spans[0].spans[2]
    assert span.parent_span_id == (0xB7AD6B7169203331).to_bytes(8, "big")
    assert span.trace_state == "vendor=v1"
    assert span.flags == 0x300  # parent known to be remote
    assert {a.key: a.value.string_value for a in span.attributes}["gen_ai.response.id"] == "chatcmpl-2"


def test_every_attribute_type_event_link_status_and_grouping_match_the_stock_bytes():
    provider, memory = _recorder(Resource.create({"service.name": "svc", "replica": 3}))
    tracer = provider.get_tracer("scope-a", "1.2", schema_url="https://opentelemetry.io/schemas/1.30.0")
    attributes = {
        "str": "x",
        "empty": "",
        "long": "é" * 300,  # past the cached length, non-ASCII
        "int": 1 << 62,
        "negative": -5,
        "zero": 0,
        "float": 2.5,
        "true": True,
        "false": False,
        "strings": ("a", "b"),
        "ints": (1, -2),
        "bools": (True,),
        "floats": (1.5,),
        "empty_tuple": (),
    }
    span = tracer.start_span(
        "everything",
        kind=SpanKind.SERVER,
        attributes=attributes,
        links=[Link(SpanContext(5, 6, True), {"link.attr": "1"}), Link(SpanContext(5, 7, False))],
    )
    span.add_event("retry", {"attempt": 2, "str": "x"})
    span.add_event("bare")
    span.set_status(Status(StatusCode.ERROR, "boom"))
    span.end()
    other = provider.get_tracer("scope-b").start_span("", kind=SpanKind.INTERNAL)
    other.set_status(Status(StatusCode.OK))
    other.end()
    for kind in (SpanKind.PRODUCER, SpanKind.CONSUMER):
        tracer.start_span(f"kind {kind.name}", kind=kind).end()
    second, memory_b = _recorder(Resource.create({"service.name": "second"}))
    second.get_tracer("scope-a").start_span("other resource").end()
    spans = [*memory.get_finished_spans(), *memory_b.get_finished_spans()]
    assert SpanEncoder().encode(spans) == encode_spans(spans).SerializePartialToString()


def test_an_int_past_int64_goes_through_the_stock_encoder_which_drops_that_attribute(caplog):
    provider, memory = _recorder()
    provider.get_tracer("t").start_span("huge", attributes={"ok": "kept", "huge": 1 << 70}).end()
    spans = memory.get_finished_spans()
    with caplog.at_level(logging.ERROR):
        encoded = SpanEncoder().encode(spans)
    assert encoded == encode_spans(spans).SerializePartialToString()
    span = ExportTraceServiceRequest.FromString(encoded).resource_spans[0].scope_spans[0].spans[0]
    assert [a.key for a in span.attributes] == ["ok"]


def test_exporter_sends_the_batch_over_otlp_http(otlp, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{otlp.url}/v1/traces")
    otlp.clear()
    provider, memory = _recorder(Resource.create({"service.name": "llmobserve-proxy"}))
    _proxy_span(provider, "chatcmpl-export")
    spans = memory.get_finished_spans()
    exporter = OTLPSpanExporter()
    assert exporter._client is not None  # the installed exporter takes encoded bytes: the fast path runs
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    received = otlp.wait(
        lambda got: any(s.attributes.get("gen_ai.response.id") == "chatcmpl-export" for s in got)
    )
    span = next(s for s in received if s.attributes.get("gen_ai.response.id") == "chatcmpl-export")
    assert span.attributes["gen_ai.usage.input_tokens"] == 14
    assert span.parent_span_id == "b7ad6b7169203331"
    assert otlp.raw[-1] == encode_spans(spans).SerializePartialToString()
    exporter.shutdown()


def test_encoding_pauses_every_few_spans_and_writes_the_same_bytes():
    provider, memory = _recorder()
    for i in range(40):
        _proxy_span(provider, f"chatcmpl-pause-{i}")
    spans = memory.get_finished_spans()
    pauses: list[int] = []
    encoded = SpanEncoder().encode(spans, pause=lambda: pauses.append(1))
    assert encoded == encode_spans(spans).SerializePartialToString()
    assert len(pauses) == 2  # after spans 16 and 32 of 40 (SpanEncoder.PAUSE_EVERY = 16)
