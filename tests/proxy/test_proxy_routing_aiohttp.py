"""Automatic proxy routing for aiohttp (google-genai async, voyage/algolia async clients): with
LLMOBSERVE_PROXY_URL, a provider call goes through the proxy, the app records no provider span of
its own, and the proxy records one priced span in the app's trace, under the stock aiohttp span.

Price cited: gpt-4o, $2.50 per million input tokens, $10.00 per million output tokens
(https://openai.com/api/pricing/, as in genai-prices).
"""

from __future__ import annotations

import textwrap

from proxy_harness import run_routed_app

M = 1_000_000

APP = textwrap.dedent(
    """
    import asyncio, json, os
    import aiohttp
    import llmobserve_otel as lo

    lo.observe(service_name="app")

    async def main():
        url = os.environ["SIM_URL"] + "/v1/chat/completions"
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        headers = [
            ("authorization", "Bearer sk-app-secret"),
            ("x-sim-usage", json.dumps({"input_tokens": 1000, "output_tokens": 200})),
        ]
        with lo.customer("acme"):
            async with aiohttp.ClientSession() as session:
                async with session.post(url, json=body, headers=headers) as reply:
                    return (await reply.json())["usage"]["prompt_tokens"]

    out = {"aiohttp": asyncio.run(main())}
    lo.shutdown()
    print(json.dumps(out))
    """
)


def test_aiohttp_routes_through_the_proxy(start_proxy, otlp, received, sim):
    out, before = run_routed_app(start_proxy, otlp, sim, APP)
    assert out == {"aiohttp": 1000}  # the app's answer, unchanged

    received.wait(lambda spans: any(s.service == "llmobserve-proxy" for s in spans))
    [proxy_span] = received.proxy_spans(1)
    everything = received.spans
    wire = [s for s in everything if s.attributes.get("llmobserve.capture") == "wire"]
    priced = [s for s in everything if "llmobserve.cost.usd" in s.attributes]
    assert [s.span_id for s in wire] == [proxy_span.span_id]  # none in the app
    assert [s.service for s in priced] == ["llmobserve-proxy"]
    app_spans = {s.span_id: s for s in everything if s.service == "app"}
    assert app_spans[proxy_span.parent_span_id].name == "POST"  # the stock aiohttp-client span
    assert proxy_span.attributes["llmobserve.customer.id"] == "acme"
    assert proxy_span.attributes["url.full"] == f"http://{sim.host_port}/v1/chat/completions"
    # 1000 * $2.50 + 200 * $10.00 per million
    assert abs(proxy_span.attributes["llmobserve.cost.usd"] - (1000 * 2.50 + 200 * 10.00) / M) < 1e-12
    [call] = sim.requests[before:]
    assert call.path == "/v1/chat/completions"
    assert call.headers["authorization"] == "Bearer sk-app-secret"
    assert not {"traceparent", "tracestate", "baggage"} & set(call.headers)
