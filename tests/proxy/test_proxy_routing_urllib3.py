"""Automatic proxy routing for `requests` and raw urllib3 (botocore, elasticsearch, ...): with
LLMOBSERVE_PROXY_URL, provider calls go through the proxy, the app records no provider span of its
own, and the proxy records one priced span per call, in the app's trace, with the customer.

`requests`: the stock requests span runs and is the proxy span's parent (as for httpx). Raw urllib3
has no stock span: our capture injects the trace context itself, so the proxy span's parent is the
app's current span. The app runs in a subprocess (instrumentation reads the variable at start).

Price cited: gpt-4o, $2.50 per million input tokens, $10.00 per million output tokens
(https://openai.com/api/pricing/, as in genai-prices).
"""

from __future__ import annotations

import textwrap

from proxy_harness import run_routed_app

M = 1_000_000

APP = textwrap.dedent(
    """
    import json, os
    import requests, urllib3
    from opentelemetry import trace
    import llmobserve_otel as lo

    lo.observe(service_name="app")
    url = os.environ["SIM_URL"] + "/v1/chat/completions"
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    headers = {
        "authorization": "Bearer sk-app-secret",
        "x-sim-usage": json.dumps({"input_tokens": 1000, "output_tokens": 200}),
    }
    out = {}
    with lo.customer("acme"):
        reply = requests.post(url, json=body, headers=headers)
        out["requests"] = reply.json()["usage"]["prompt_tokens"]
        with trace.get_tracer("app").start_as_current_span("app-work") as work:
            out["work_span"] = format(work.get_span_context().span_id, "016x")
            pool = urllib3.PoolManager()
            raw = pool.request("POST", url, body=json.dumps(body).encode(),
                               headers={**headers, "content-type": "application/json"})
            out["urllib3"] = json.loads(raw.data)["usage"]["prompt_tokens"]
    lo.shutdown()
    print(json.dumps(out))
    """
)


def test_requests_and_urllib3_route_through_the_proxy(start_proxy, otlp, received, sim):
    out, before = run_routed_app(start_proxy, otlp, sim, APP)
    assert (out["requests"], out["urllib3"]) == (1000, 1000)  # the app's answers, unchanged

    received.wait(lambda spans: sum(s.service == "llmobserve-proxy" for s in spans) >= 2)
    proxy_spans = received.proxy_spans(2)
    everything = received.spans
    wire = [s for s in everything if s.attributes.get("llmobserve.capture") == "wire"]
    priced = [s for s in everything if "llmobserve.cost.usd" in s.attributes]
    assert sorted(s.span_id for s in wire) == sorted(s.span_id for s in proxy_spans)  # none in the app
    assert [s.service for s in priced] == ["llmobserve-proxy", "llmobserve-proxy"]
    app_spans = {s.span_id: s for s in everything if s.service == "app"}
    first, second = sorted(proxy_spans, key=lambda s: s.start_ns)
    assert app_spans[first.parent_span_id].name == "POST"  # the stock requests span
    assert first.parent_span_id != out["work_span"]
    assert second.parent_span_id == out["work_span"]  # urllib3: the app's current span
    for span in proxy_spans:
        assert span.attributes["llmobserve.customer.id"] == "acme"
        assert span.attributes["url.full"] == f"http://{sim.host_port}/v1/chat/completions"
        # 1000 * $2.50 + 200 * $10.00 per million
        assert abs(span.attributes["llmobserve.cost.usd"] - (1000 * 2.50 + 200 * 10.00) / M) < 1e-12
    calls = sim.requests[before:]
    assert [c.path for c in calls] == ["/v1/chat/completions"] * 2
    for call in calls:
        assert call.headers["authorization"] == "Bearer sk-app-secret"
        assert not {"traceparent", "tracestate", "baggage"} & set(call.headers)
