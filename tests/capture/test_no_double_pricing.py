"""Never price a call twice: whichever instrumentations see a call, exactly one of its spans has a cost.

Provider SDKs and other GenAI instrumentations (the anthropic SDK's own `anthropic.messages.create`
span, opentelemetry-instrumentation-openai-v2, OpenLLMetry, OpenLIT) open a span around the HTTP call
that our wire capture prices. Such a span is marked `llmobserve.cost.status=duplicate`; a GenAI span
with usage but no wire capture beneath it is priced by the CostSpanProcessor (source `sdk`); a span
that already carries a cost keeps it (source `caller`).

Expected costs from the published prices per million tokens (https://openai.com/api/pricing,
https://www.anthropic.com/pricing; the same figures genai-prices carries):
  gpt-4o:            $2.50 input, $1.25 cached input, $10.00 output
  claude-sonnet-4-5: $3.00 input, $0.30 cache read, $3.75 cache write (5 min), $15.00 output
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from llmobserve_otel.testing import ProviderSimulator

M = 1_000_000
OPENAI_USAGE = {"input_tokens": 1000, "output_tokens": 500, "cached_tokens": 200}
# 800 uncached * $2.50 + 200 cached * $1.25 + 500 out * $10
OPENAI_COST = (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / M
STREAM_USAGE = {"input_tokens": 120, "output_tokens": 40}
# 120 * $2.50 + 40 * $10
STREAM_COST = (120 * 2.50 + 40 * 10.00) / M
ANTHROPIC_USAGE = {
    "input_tokens": 1000,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 500,
    "output_tokens": 300,
}
# 1000 * $3 + 2000 cache read * $0.30 + 500 cache write * $3.75 + 300 out * $15
ANTHROPIC_COST = (1000 * 3.00 + 2000 * 0.30 + 500 * 3.75 + 300 * 15.00) / M

COST = "llmobserve.cost.usd"
STATUS = "llmobserve.cost.status"
SOURCE = "llmobserve.cost.source"


def test_hand_computed_costs():
    assert pytest.approx(0.00725) == OPENAI_COST
    assert pytest.approx(0.0007) == STREAM_COST
    assert pytest.approx(0.009975) == ANTHROPIC_COST


def _headers(usage: dict[str, int]) -> dict[str, str]:
    return {"x-sim-usage": json.dumps(usage)}


def _attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def _priced(spans) -> list[Any]:
    return [s for s in spans.all() if COST in (s.attributes or {})]


@pytest.fixture
def oai(sim) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)


@pytest.fixture
def ant(anthropic_sim) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=anthropic_sim.url, api_key="sk-ant-test", max_retries=0)


@pytest.fixture(scope="module")
def unmapped_sim() -> Iterator[ProviderSimulator]:
    """A provider endpoint NOT in LLMOBSERVE_PROVIDER_HOSTS: no wire capture sees its calls."""
    with ProviderSimulator() as simulator:
        yield simulator


@contextmanager
def genai_wrapper(tracer_provider, scope: str, name: str, attributes: dict[str, Any]) -> Iterator[trace.Span]:
    """A GenAI span made current around an SDK call, as OpenLLMetry / OpenLIT / openai-v2 make them."""
    tracer = tracer_provider.get_tracer(scope)
    with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes) as span:
        yield span


# --- the anthropic SDK's own span ------------------------------------------------------------


def test_anthropic_sdk_span_is_not_priced_twice(ant, spans):
    message = ant.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=_headers(ANTHROPIC_USAGE),
    )
    assert message.usage.cache_read_input_tokens == 2000
    sdk = [s for s in spans.all() if s.instrumentation_scope.name == "com.anthropic.sdk.python"]
    assert [s.name for s in sdk] == ["anthropic.messages.create"]
    sdk_attrs = _attrs(sdk[0])
    assert sdk_attrs["gen_ai.usage.cache_write.input_tokens"] == 500  # the SDK's spelling
    assert COST not in sdk_attrs
    assert sdk_attrs[STATUS] == "duplicate"
    wire = spans.provider_calls()
    assert len(wire) == 1 and wire[0].parent.span_id == sdk[0].context.span_id
    assert _priced(spans) == wire
    assert _attrs(wire[0])[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    assert _attrs(wire[0])[SOURCE] == "sdk"


def test_anthropic_sdk_stream_span_is_not_priced_twice(ant, spans):
    with ant.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=_headers(ANTHROPIC_USAGE),
    ) as stream:
        stream.get_final_message()
    sdk = [s for s in spans.all() if s.instrumentation_scope.name == "com.anthropic.sdk.python"]
    assert len(sdk) == 1
    assert COST not in _attrs(sdk[0])
    assert _attrs(sdk[0])[STATUS] == "duplicate"
    (priced,) = _priced(spans)
    assert _attrs(priced)["llmobserve.capture"] == "wire"
    assert _attrs(priced)[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)


def test_anthropic_sdk_span_without_wire_capture_is_priced_once(unmapped_sim, spans):
    """No wire capture beneath it: the SDK's own span is the one priced, with its cache spelling."""
    client = anthropic.Anthropic(base_url=unmapped_sim.url, api_key="sk-ant-test", max_retries=0)
    client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=_headers(ANTHROPIC_USAGE),
    )
    assert spans.provider_calls() == []
    (priced,) = _priced(spans)
    assert priced.name == "anthropic.messages.create"
    attrs = _attrs(priced)
    assert attrs["gen_ai.usage.input_tokens"] == 3500  # the SDK adds the cache tokens in, as semconv says
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 500
    assert attrs[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    assert attrs[SOURCE] == "sdk"


# --- other GenAI instrumentations around a wire-captured call ---------------------------------


def test_foreign_genai_span_around_wire_call_is_duplicate(oai, spans, tracer_provider):
    """An OpenLLMetry-style span (older `gen_ai.system` / `prompt_tokens` spelling) around the call."""
    with genai_wrapper(
        tracer_provider,
        "opentelemetry.instrumentation.openai.v1",
        "openai.chat",
        {"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"},
    ) as wrapper:
        result = oai.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_headers=_headers(OPENAI_USAGE)
        )
        wrapper.set_attribute("gen_ai.response.model", result.model)
        wrapper.set_attribute("gen_ai.usage.prompt_tokens", result.usage.prompt_tokens)
        wrapper.set_attribute("gen_ai.usage.completion_tokens", result.usage.completion_tokens)
    (outer,) = spans.named("openai.chat")
    assert COST not in _attrs(outer)
    assert _attrs(outer)[STATUS] == "duplicate"
    (priced,) = _priced(spans)
    assert _attrs(priced)["llmobserve.capture"] == "wire"
    assert _attrs(priced)[COST] == pytest.approx(OPENAI_COST, abs=1e-12)


def test_foreign_genai_span_around_wire_stream_is_duplicate(oai, spans, tracer_provider):
    with genai_wrapper(
        tracer_provider,
        "openlit.otel.tracing",
        "chat gpt-4o",
        {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"},
    ) as wrapper:
        stream = oai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=_headers(STREAM_USAGE),
        )
        chunks = list(stream)
        wrapper.set_attribute("gen_ai.usage.input_tokens", chunks[-1].usage.prompt_tokens)
        wrapper.set_attribute("gen_ai.usage.output_tokens", chunks[-1].usage.completion_tokens)
    outer = [s for s in spans.named("chat gpt-4o") if s.instrumentation_scope.name == "openlit.otel.tracing"]
    assert len(outer) == 1
    assert COST not in _attrs(outer[0])
    assert _attrs(outer[0])[STATUS] == "duplicate"
    (priced,) = _priced(spans)
    assert _attrs(priced)["llmobserve.capture"] == "wire"
    assert _attrs(priced)[COST] == pytest.approx(STREAM_COST, abs=1e-12)


def test_two_instrumentations_around_one_anthropic_call(ant, spans, tracer_provider):
    """OpenLLMetry-style span -> the anthropic SDK's span -> our wire span: one cost, two duplicates."""
    with genai_wrapper(
        tracer_provider,
        "opentelemetry.instrumentation.anthropic",
        "anthropic.chat",
        {"gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5"},
    ) as wrapper:
        message = ant.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=256,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers=_headers(ANTHROPIC_USAGE),
        )
        wrapper.set_attribute("gen_ai.usage.input_tokens", message.usage.input_tokens)
        wrapper.set_attribute("gen_ai.usage.output_tokens", message.usage.output_tokens)
        wrapper.set_attribute("gen_ai.usage.cache_read.input_tokens", message.usage.cache_read_input_tokens)
        wrapper.set_attribute(
            "gen_ai.usage.cache_creation.input_tokens", message.usage.cache_creation_input_tokens
        )
    (priced,) = _priced(spans)
    assert _attrs(priced)["llmobserve.capture"] == "wire"
    assert _attrs(priced)[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    for name in ("anthropic.chat", "anthropic.messages.create"):
        (span,) = spans.named(name)
        assert _attrs(span)[STATUS] == "duplicate", name


def test_two_instrumentations_without_wire_capture_price_the_call_once(unmapped_sim, spans, tracer_provider):
    """OpenLLMetry-style span -> the anthropic SDK's span, and no wire capture beneath (an endpoint
    not in the registry): both carry the call's usage, so exactly one of them may carry its cost."""
    client = anthropic.Anthropic(base_url=unmapped_sim.url, api_key="sk-ant-test", max_retries=0)
    with genai_wrapper(
        tracer_provider,
        "opentelemetry.instrumentation.anthropic",
        "anthropic.chat",
        {"gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5"},
    ) as wrapper:
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=256,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers=_headers(ANTHROPIC_USAGE),
        )
        usage = message.usage
        wrapper.set_attribute(
            "gen_ai.usage.input_tokens",
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens,
        )
        wrapper.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
        wrapper.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cache_read_input_tokens)
        wrapper.set_attribute("gen_ai.usage.cache_creation.input_tokens", usage.cache_creation_input_tokens)
    priced = _priced(spans)
    assert len(priced) == 1, [(s.name, _attrs(s)[COST]) for s in priced]
    assert _attrs(priced[0])[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)


# --- opentelemetry-instrumentation-openai-v2 ----------------------------------------------------


@pytest.fixture
def openai_v2(tracer_provider, oai) -> Iterator[None]:
    """OpenAIInstrumentor on the session's provider, removed afterwards; skipped when it cannot work."""
    try:
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    except ImportError as exc:  # e.g. an opentelemetry-util-genai it does not match
        pytest.skip(f"opentelemetry-instrumentation-openai-v2 cannot be imported here: {exc!r}")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        try:
            oai.embeddings.create(model="text-embedding-3-small", input="probe")
        except AttributeError as exc:  # its util-genai does not match it
            pytest.skip(f"opentelemetry-instrumentation-openai-v2 fails at call time here: {exc!r}")
        yield
    finally:
        instrumentor.uninstrument()


# openai-v2 names its tracer after itself, or (since it emits through opentelemetry-util-genai) after that.
OPENAI_V2_SCOPES = ("opentelemetry.instrumentation.openai_v2", "opentelemetry.util.genai.handler")


def _v2_spans(spans) -> list[Any]:
    return [s for s in spans.all() if s.instrumentation_scope.name in OPENAI_V2_SCOPES]


def test_openai_v2_span_is_not_priced_twice(openai_v2, oai, spans):
    spans._exporter.clear()
    oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_headers=_headers(OPENAI_USAGE)
    )
    (v2,) = _v2_spans(spans)
    assert _attrs(v2)["gen_ai.usage.input_tokens"] == 1000
    assert COST not in _attrs(v2)
    assert _attrs(v2)[STATUS] == "duplicate"
    (priced,) = _priced(spans)
    assert _attrs(priced)["llmobserve.capture"] == "wire" and _attrs(priced)[SOURCE] == "sdk"
    assert _attrs(priced)[COST] == pytest.approx(OPENAI_COST, abs=1e-12)


def test_openai_v2_stream_span_is_not_priced_twice(openai_v2, oai, spans):
    spans._exporter.clear()
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers=_headers(STREAM_USAGE),
    )
    for _ in stream:
        pass
    (v2,) = _v2_spans(spans)
    assert COST not in _attrs(v2)
    assert _attrs(v2)[STATUS] == "duplicate"
    (priced,) = _priced(spans)
    assert _attrs(priced)[COST] == pytest.approx(STREAM_COST, abs=1e-12)


def test_openai_v2_span_without_wire_capture_is_priced(openai_v2, unmapped_sim, spans):
    client = openai.OpenAI(base_url=unmapped_sim.url + "/v1", api_key="sk-test", max_retries=0)
    spans._exporter.clear()
    client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=_headers({"input_tokens": 1000, "output_tokens": 500}),
    )
    (priced,) = _priced(spans)
    assert priced in _v2_spans(spans)
    # openai-v2 records no cached-token count, so this call has none: 1000 * $2.50 + 500 * $10
    assert _attrs(priced)[COST] == pytest.approx((1000 * 2.50 + 500 * 10.00) / M, abs=1e-12)
    assert _attrs(priced)[SOURCE] == "sdk"
    assert _attrs(priced)[STATUS] == "priced"


# --- foreign GenAI spans with no wire capture beneath: priced by the CostSpanProcessor ----------


def _foreign_span(tracer_provider, name: str, attributes: dict[str, Any]) -> None:
    tracer_provider.get_tracer("some.genai.instrumentation").start_span(
        name, kind=SpanKind.CLIENT, attributes=attributes
    ).end()


def test_foreign_openai_span_is_priced(spans, tracer_provider):
    _foreign_span(
        tracer_provider,
        "chat gpt-4o",
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.cache_read.input_tokens": 200,
            "gen_ai.usage.output_tokens": 500,
        },
    )
    (span,) = spans.all()
    attrs = _attrs(span)
    assert attrs[COST] == pytest.approx(OPENAI_COST, abs=1e-12)
    assert attrs[SOURCE] == "sdk"
    assert attrs[STATUS] == "priced"


def test_foreign_span_with_old_semconv_spelling_is_priced(spans, tracer_provider):
    _foreign_span(
        tracer_provider,
        "openai.chat",
        {
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.prompt_tokens": 120,
            "gen_ai.usage.completion_tokens": 40,
        },
    )
    (span,) = spans.all()
    assert _attrs(span)[COST] == pytest.approx(STREAM_COST, abs=1e-12)
    assert _attrs(span)[SOURCE] == "sdk"


@pytest.mark.parametrize(
    "cache_write_key", ["gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens"]
)
def test_foreign_anthropic_span_is_priced_with_either_cache_spelling(spans, tracer_provider, cache_write_key):
    _foreign_span(
        tracer_provider,
        "anthropic.messages.create",
        {
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 3500,  # 1000 + 2000 cache read + 500 cache write
            "gen_ai.usage.cache_read.input_tokens": 2000,
            cache_write_key: 500,
            "gen_ai.usage.output_tokens": 300,
        },
    )
    (span,) = spans.all()
    assert _attrs(span)[COST] == pytest.approx(ANTHROPIC_COST, abs=1e-12)
    assert _attrs(span)[SOURCE] == "sdk"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({COST: 0.5}, (0.5, "caller")),  # a negotiated rate the caller computed
        ({COST: 0.25, SOURCE: "proxy"}, (0.25, "proxy")),
    ],
)
def test_span_with_a_cost_keeps_it(spans, tracer_provider, given, expected):
    _foreign_span(
        tracer_provider,
        "chat gpt-4o",
        {
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 500,
            **given,
        },
    )
    (span,) = spans.all()
    assert (_attrs(span)[COST], _attrs(span)[SOURCE]) == expected
