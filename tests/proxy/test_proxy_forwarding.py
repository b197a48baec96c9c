"""The proxy on the wire: a real openai SDK -> `llmobserve-otel proxy` (subprocess) -> upstream, with
the proxy's spans received over OTLP. Checks item 1 (forwarding, streaming) and item 3 (trace,
attribution, header stripping) of issue 4.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from opentelemetry.trace import SpanKind

import llmobserve_otel as lo

SECRET = "sk-test-secret-never-recorded"
USAGE = {"input_tokens": 1000, "output_tokens": 200}


def _app_http_span(spans, proxy_url: str):
    """The app's stock HTTP client span for the call to the proxy (the proxy span's parent)."""
    http_spans = [
        s
        for s in spans.all()
        if s.kind == SpanKind.CLIENT
        and s.name in ("POST", "GET")  # the stock HTTP span, not an SDK's own span around it
        and any(str(v).startswith(proxy_url) for k, v in (s.attributes or {}).items() if "url" in k)
    ]
    assert len(http_spans) == 1, [s.name for s in spans.all()]
    return http_spans[0]


def test_chat_call_gives_one_span_child_of_the_app_http_span(proxy, received, sim, spans):
    client = openai.OpenAI(
        base_url=proxy.url + "/openai/v1",
        api_key=SECRET,
        max_retries=0,
        default_headers={"x-sim-usage": json.dumps(USAGE), "x-llmobserve-debug": "1"},
    )
    with lo.customer("acme"), lo.section("agent:research"):
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (1000, 200)

    (span,) = received.proxy_spans(1)
    app_span = _app_http_span(spans, proxy.url)
    assert span.parent_span_id == f"{app_span.context.span_id:016x}"
    assert span.trace_id == f"{app_span.context.trace_id:032x}"
    assert span.name == "chat gpt-4o"
    assert span.kind == 3  # CLIENT
    assert span.attributes == {
        "llmobserve.provider": "openai",
        "llmobserve.operation": "chat",
        "llmobserve.capture": "wire",
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": int(sim.host_port.rsplit(":", 1)[1]),
        "url.full": f"http://{sim.host_port}/v1/chat/completions",
        "gen_ai.provider.name": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "llmobserve.customer.id": "acme",
        "llmobserve.section.path": "agent:research",
        "http.response.status_code": 200,
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.response.id": reply.id,
        "gen_ai.response.finish_reasons": ["stop"],
    }
    # Unpriced in the proxy by default: the collector prices it.
    assert not any(key.startswith("llmobserve.cost") for key in span.attributes)
    # The in-process capture does not record a call to the proxy (not a provider host).
    assert spans.provider_calls() == []

    # The upstream got the auth header, and none of the tracing / llmobserve headers.
    headers = sim.requests[-1].headers
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["host"] == sim.host_port
    assert not {"traceparent", "tracestate", "baggage"} & set(headers)
    assert [h for h in headers if h.startswith(("x-llmobserve", "proxy-"))] == []
    # The key is in no exported byte.
    assert all(SECRET.encode() not in body for body in received.raw)


def test_stream_is_forwarded_event_by_event(proxy, received, faults):
    client = openai.OpenAI(
        base_url=f"{proxy.url}/_/http/{faults.host_port}/gate/v1", api_key=SECRET, max_retries=0
    )
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    first = next(iter(stream))
    # The client holds the first event while the upstream has not sent the others yet.
    assert first.choices[0].delta.content == "w0 "
    assert not faults.last_event_sent.is_set()
    faults.gate.set()
    rest = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in rest if c.choices) == "w1 w2 w3 w4 "
    assert rest[-1].usage.prompt_tokens == 7

    (span,) = received.proxy_spans(1)
    attrs = span.attributes
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (7, 5)
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["url.full"] == f"http://{faults.host_port}/gate/v1/chat/completions"
    assert "llmobserve.usage.incomplete" not in attrs
    assert "llmobserve.customer.id" not in attrs  # no baggage sent, none invented


def test_simulator_stream_usage_and_bytes(proxy, received, sim):
    body = {
        "model": "gpt-4o",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "one two three"}],
    }
    headers = {"x-sim-usage": json.dumps({"input_tokens": 31, "output_tokens": 9}), "x-sim-events": "4"}
    with httpx.Client() as client:
        via_proxy = client.post(f"{proxy.url}/openai/v1/chat/completions", json=body, headers=headers)
        direct = client.post(f"{sim.url}/v1/chat/completions", json=body, headers=headers)
    assert via_proxy.status_code == 200
    assert via_proxy.headers["content-type"] == direct.headers["content-type"]

    # Same bytes but the ids and timestamps the simulator numbers per response.
    def normalise(text: str) -> list:
        return [json.loads(line[6:]).get("usage") for line in text.splitlines() if line.startswith("data: {")]

    assert normalise(via_proxy.text) == normalise(direct.text)
    assert via_proxy.text.count("data: ") == direct.text.count("data: ")
    (span,) = received.proxy_spans(1)
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (
        31,
        9,
    )


def test_upstream_error_passes_through_unchanged(proxy, received, sim):
    client = openai.OpenAI(base_url=proxy.url + "/openai/v1", api_key=SECRET, max_retries=0)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-sim-fault": "status:429"},
        )
    assert raised.value.status_code == 429
    assert raised.value.body["type"] == "rate_limit_error" or raised.value.code is not None
    (span,) = received.proxy_spans(1)
    assert span.attributes["http.response.status_code"] == 429
    assert span.attributes["error.type"] == "429"
    assert span.status_code == 2  # ERROR
    assert "gen_ai.usage.input_tokens" not in span.attributes


def test_unbilled_route_and_query_string_pass_through(proxy, received, sim):
    with httpx.Client() as client:
        answer = client.get(f"{proxy.url}/openai/v1/models?limit=2&after=a%2Fb")
    assert answer.status_code == 404  # the simulator has no such route: its own error, passed on
    assert sim.requests[-1].path == "/v1/models?limit=2&after=a%2Fb"
    (span,) = received.proxy_spans(1)
    assert span.name == "GET"
    assert span.attributes["url.full"] == f"http://{sim.host_port}/v1/models"  # no query: keys live there
    assert span.attributes["http.response.status_code"] == 404


def test_health(proxy):
    answer = httpx.get(proxy.url + "/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_anthropic_stream_through_the_proxy(proxy, received, anthropic_sim, spans):
    import anthropic

    client = anthropic.Anthropic(base_url=proxy.url + "/anthropic", api_key="sk-ant-secret", max_retries=0)
    usage = {"input_tokens": 400, "output_tokens": 90, "cache_read_input_tokens": 100}
    with (
        lo.customer("globex"),
        client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=200,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-sim-usage": json.dumps(usage)},
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.usage.output_tokens == 90
    (span,) = received.proxy_spans(1)
    attrs = span.attributes
    assert attrs["llmobserve.provider"] == "anthropic"
    assert attrs["llmobserve.customer.id"] == "globex"
    # Anthropic reports cache reads apart from input_tokens; the semconv input count includes them.
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (400 + 100, 90)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 100
    assert anthropic_sim.requests[-1].headers["authorization"] == "Bearer sk-ant-secret"  # anthropic >= 2
    assert span.parent_span_id == f"{_app_http_span(spans, proxy.url).context.span_id:016x}"


def test_gzip_body_passes_compressed_and_usage_is_read(proxy, received, sim):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-sim-fault": "gzip", "x-sim-usage": json.dumps({"input_tokens": 12, "output_tokens": 5})}
    with httpx.Client() as client:
        via_proxy = client.post(f"{proxy.url}/openai/v1/chat/completions", json=body, headers=headers)
    assert via_proxy.headers["content-encoding"] == "gzip"
    assert via_proxy.json()["usage"]["prompt_tokens"] == 12  # httpx decoded what the proxy passed on
    (span,) = received.proxy_spans(1)
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (
        12,
        5,
    )
