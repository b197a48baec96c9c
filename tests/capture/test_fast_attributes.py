"""The capture's end-of-call attribute write skips the SDK's value cleaning only when that changes nothing."""

from __future__ import annotations

from opentelemetry.sdk.trace import SpanLimits, TracerProvider

from llmobserve_otel.capture._call import _set_attributes

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
