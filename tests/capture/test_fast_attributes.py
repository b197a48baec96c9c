"""The capture's attribute writes skip the SDK's value cleaning only when that changes nothing."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBasedTraceIdRatio, Sampler

from llmobserve_otel._internal.span_attributes import set_attributes as _set_attributes
from llmobserve_otel.capture._call import _start_attributes_read
from llmobserve_otel.processors import AttributionSpanProcessor, CostSpanProcessor

VALUES = {
    "gen_ai.usage.input_tokens": 250,
    "gen_ai.response.model": "gpt-4o-mini",
    "gen_ai.response.finish_reasons": ["stop", "length"],
    "llmobserve.cost.usd": 4.47e-05,
    "llmobserve.usage.incomplete": True,
}


def _written(provider: TracerProvider, fast: bool) -> dict[str, object]:
    span = provider.get_tracer("t").start_span("chat", attributes={"gen_ai.operation.name": "chat"})
    if fast:
        _set_attributes(span, dict(VALUES))
    else:
        span.set_attributes(dict(VALUES))
    span.end()
    return dict(span.attributes)  # type: ignore[arg-type]


def test_same_attributes_as_the_sdk_path() -> None:
    provider = TracerProvider()
    fast, sdk = _written(provider, True), _written(provider, False)
    assert fast == sdk
    assert fast["gen_ai.response.finish_reasons"] == ("stop", "length")  # a tuple, as the SDK stores it


def test_value_length_limit_takes_the_sdk_path() -> None:
    provider = TracerProvider(span_limits=SpanLimits(max_attribute_length=3))
    fast = _written(provider, True)
    assert fast["gen_ai.response.model"] == "gpt"
    assert fast["gen_ai.response.finish_reasons"] == ("sto", "len")


def test_full_attribute_table_takes_the_sdk_path() -> None:
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=3))
    span = provider.get_tracer("t").start_span("chat", attributes={"gen_ai.operation.name": "chat"})
    _set_attributes(span, dict(VALUES))
    span.end()
    assert len(span.attributes) == 3  # type: ignore[arg-type]
    assert span.dropped_attributes == 3


def test_other_values_take_the_sdk_path() -> None:
    provider = TracerProvider()
    fast, sdk = provider.get_tracer("t").start_span("a"), provider.get_tracer("t").start_span("b")
    values = {"a": 1, "b": None, "c": [1, 2], "d": {"x": [1]}}
    _set_attributes(fast, dict(values))
    sdk.set_attributes(dict(values))
    assert dict(fast.attributes) == dict(sdk.attributes)  # type: ignore[arg-type]
    assert dict(fast.attributes)["c"] == (1, 2)  # type: ignore[arg-type]


def test_ended_span_is_left_alone() -> None:
    provider = TracerProvider()
    span = provider.get_tracer("t").start_span("chat")
    span.end()
    _set_attributes(span, {"a": 1})
    assert dict(span.attributes) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("limits", "customer", "path"),
    [(SpanLimits(), "acme-corp", "agent:a"), (SpanLimits(max_attribute_length=4), "acme", "agen")],
)
def test_attribution_writes_what_the_sdk_would(limits, customer, path) -> None:
    """The attribution processor's two attributes go straight in, or through the SDK's limits."""
    from opentelemetry import baggage

    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(AttributionSpanProcessor())
    ctx = baggage.set_baggage("llmobserve.customer.id", "acme-corp")
    ctx = baggage.set_baggage("llmobserve.section.path", "agent:a", ctx)
    span = provider.get_tracer("t").start_span("work", context=ctx)
    span.end()
    assert span.attributes["llmobserve.customer.id"] == customer  # type: ignore[index]
    assert span.attributes["llmobserve.section.path"] == path  # type: ignore[index]


# --- A provider call's span starts bare, attributes all set as it ends, only when nothing reads them at start


class _RecordingSampler(Sampler):
    """A sampler that decides on the attributes, as a user's may: it must see the call's."""

    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None):  # type: ignore[no-untyped-def]
        self.seen.append(dict(attributes or {}))
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return "recording"


class _StartReader(SpanProcessor):
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    def on_start(self, span, parent_context=None):  # type: ignore[no-untyped-def]
        self.seen.append(dict(span.attributes))


def _call_span(provider: TracerProvider) -> tuple[dict[str, object], dict[str, object]]:
    """A call's span attributes as it starts, and (those keys) once the call has finished."""
    from llmobserve_otel.capture._call import CaptureConfig, ProviderCall, RequestView
    from llmobserve_otel.providers import openai

    request = RequestView(
        "POST", "https", "api.openai.com", None, "/v1/chat/completions", b'{"model":"gpt-4o"}'
    )
    call = ProviderCall(
        CaptureConfig(tracer=provider.get_tracer("t"), price_source=None), openai, openai.CHAT, request
    )
    at_start = dict(call.span.attributes)  # type: ignore[arg-type]
    call.finish(complete=False)
    ended = dict(call.span.attributes)  # type: ignore[arg-type]
    return at_start, {key: ended[key] for key in CALL_START if key in ended}


CALL_START = {
    "llmobserve.provider": "openai",
    "llmobserve.operation": "chat",
    "llmobserve.capture": "wire",
    "http.request.method": "POST",
    "server.address": "api.openai.com",
    "url.full": "https://api.openai.com/v1/chat/completions",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.provider.name": "openai",
    "gen_ai.operation.name": "chat",
}


def test_stock_pipeline_starts_bare_with_the_same_attributes() -> None:
    provider = TracerProvider(sampler=ParentBasedTraceIdRatio(1.0))
    for processor in (
        AttributionSpanProcessor(),
        CostSpanProcessor(),
        SimpleSpanProcessor(InMemorySpanExporter()),
    ):
        provider.add_span_processor(processor)
    assert _start_attributes_read(provider.get_tracer("t")) is False
    assert _call_span(provider) == ({}, CALL_START)  # nothing written until the end, then all of them


def test_a_sampler_that_may_read_attributes_sees_them_at_start() -> None:
    sampler = _RecordingSampler()
    provider = TracerProvider(sampler=sampler)
    assert _start_attributes_read(provider.get_tracer("t")) is True
    assert _call_span(provider) == (CALL_START, CALL_START)
    assert sampler.seen == [CALL_START]


def test_a_processor_added_later_sees_them_at_start() -> None:
    provider = TracerProvider()
    assert _start_attributes_read(provider.get_tracer("t")) is False
    reader = _StartReader()
    provider.add_span_processor(reader)
    assert _start_attributes_read(provider.get_tracer("t")) is True
    assert _call_span(provider) == (CALL_START, CALL_START)
    assert reader.seen == [CALL_START]
