"""Automatic routing (issue 4, item 2): an app with `observe()` and LLMOBSERVE_PROXY_URL sends its
provider calls through the proxy; the app records no provider span of its own, the proxy records one
per call, child of the app's HTTP span: exactly one priced span per call.

The app runs in a subprocess (instrumentation is process-global and reads the variable at start);
its spans and the proxy's go to the same OTLP receiver.

Price cited: gpt-4o, $2.50 per million input tokens, $10.00 per million output tokens
(https://openai.com/api/pricing/, as in genai-prices).
"""

from __future__ import annotations

import textwrap

from proxy_harness import run_routed_app

M = 1_000_000

APP = textwrap.dedent(
    """
    import json, os, sys
    import openai
    import llmobserve_otel as lo

    lo.observe(service_name="app")
    client = openai.OpenAI(
        base_url=os.environ["SIM_URL"] + "/v1",  # a provider host for this app (LLMOBSERVE_PROVIDER_HOSTS)
        api_key="sk-app-secret",
        max_retries=0,
        default_headers={"x-sim-usage": json.dumps({"input_tokens": 1000, "output_tokens": 200})},
    )
    out = {}
    with lo.customer("acme"), lo.section("agent:research"):
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        out["plain"] = [reply.usage.prompt_tokens, reply.usage.completion_tokens]
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        out["stream"] = [chunk.usage.prompt_tokens for chunk in stream if chunk.usage]
    lo.shutdown()
    print(json.dumps(out))
    """
)


def test_proxy_url_routes_provider_calls_one_priced_span_each(start_proxy, otlp, received, sim):
    out, before = run_routed_app(start_proxy, otlp, sim, APP)
    assert out == {"plain": [1000, 200], "stream": [1000]}

    received.wait(lambda spans: sum(s.service == "llmobserve-proxy" for s in spans) >= 2)
    spans = received.proxy_spans(2)
    everything = received.spans
    wire = [s for s in everything if s.attributes.get("llmobserve.capture") == "wire"]
    priced = [s for s in everything if "llmobserve.cost.usd" in s.attributes]
    # One provider-call span per call, both the proxy's; no in-process provider span.
    assert sorted(s.span_id for s in wire) == sorted(s.span_id for s in spans)
    assert [s.service for s in priced] == ["llmobserve-proxy", "llmobserve-proxy"]
    app_spans = {s.span_id: s for s in everything if s.service == "app"}
    for span in spans:
        parent = app_spans[span.parent_span_id]  # the app's stock HTTP client span
        assert parent.kind == 3 and parent.name == "POST"
        assert parent.trace_id == span.trace_id
        assert span.attributes["llmobserve.customer.id"] == "acme"
        assert span.attributes["llmobserve.section.path"] == "agent:research"
        assert span.attributes["url.full"] == f"http://{sim.host_port}/v1/chat/completions"
        assert (
            span.attributes["gen_ai.usage.input_tokens"],
            span.attributes["gen_ai.usage.output_tokens"],
        ) == (
            1000,
            200,
        )
        # 1000 * $2.50 + 200 * $10.00 per million
        assert abs(span.attributes["llmobserve.cost.usd"] - (1000 * 2.50 + 200 * 10.00) / M) < 1e-12
        assert span.attributes["llmobserve.cost.source"] == "proxy"
    # The provider got the app's key and no tracing or attribution headers.
    calls = sim.requests[before:]
    assert [c.path for c in calls] == ["/v1/chat/completions"] * 2
    for call in calls:
        assert call.headers["authorization"] == "Bearer sk-app-secret"
        assert not {"traceparent", "tracestate", "baggage"} & set(call.headers)
        assert not [h for h in call.headers if h.startswith(("x-llmobserve", "proxy-"))]
