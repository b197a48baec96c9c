"""`requests` against a local WireServer mapped as `openai`: the urllib3 capture records the call as ONE
span (the stock requests span is suppressed for provider hosts), exact usage and cost.

Prices (per million tokens, https://openai.com/api/pricing, as genai-prices carries them):
gpt-4o $2.50 input, $10.00 output.
"""

from __future__ import annotations

import json

import pytest
import requests
from opentelemetry import baggage, context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from wire import On, Reply, WireServer, map_host

from llmobserve_otel import capture

M = 1_000_000
CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 2000, "completion_tokens": 500, "total_tokens": 2500},
}
STREAM_EVENTS = [
    (None, {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "hello"}}]}),
    (
        None,
        {
            "id": "c1",
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": 90},
        },
    ),
    (None, "[DONE]"),
]
ROUTES = [
    On(
        "POST",
        r"/v1/chat/completions",
        lambda req: Reply.sse(STREAM_EVENTS) if req.json().get("stream") else Reply.json(CHAT_REPLY),
    ),
    On(
        "POST",
        r"/v1/bad/chat/completions",
        lambda req: Reply(200, b"not json", {"content-type": "application/json"}),
    ),
]


@pytest.fixture(scope="module")
def server():
    with WireServer(ROUTES) as server:
        map_host(server, "openai")
        yield server


@pytest.fixture(scope="module")
def internal_server():
    """Not a provider: the stock requests span and its traceparent go there as before."""
    with WireServer([On("POST", r"/work", lambda req: Reply.json({"ok": True}))]) as server:
        yield server


def _with_customer(fn):
    token = context.attach(baggage.set_baggage("llmobserve.customer.id", "acme"))
    try:
        return fn()
    finally:
        context.detach(token)


def test_one_span_exact_cost_no_stock_span_no_baggage(server, spans):
    assert "requests" in capture.instrumented() and "urllib3" in capture.instrumented()
    response = _with_customer(
        lambda: requests.post(
            server.url + "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-secret"},
        )
    )
    assert response.json() == CHAT_REPLY
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 2000
    assert attrs["gen_ai.usage.output_tokens"] == 500
    # 2000 * $2.50/M + 500 * $10/M = $0.01
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2000 * 2.50 + 500 * 10.00) / M, abs=1e-12)
    assert attrs["llmobserve.customer.id"] == "acme"
    # exactly one span for the call: ours, no stock requests span beside or above it
    assert [s.name for s in spans.all()] == ["chat gpt-4o"]
    sent = server.requests[-1].headers
    assert "baggage" not in sent and "traceparent" not in sent
    assert "sk-secret" not in json.dumps(dict(spans.provider_calls()[0].attributes))


def test_stream_iter_lines_bytes_untouched(server, spans):
    body = {"model": "gpt-4o", "messages": [], "stream": True}
    with suppress_instrumentation():
        expected = list(
            requests.post(server.url + "/v1/chat/completions", json=body, stream=True).iter_lines()
        )
    assert spans.all() == []
    with requests.post(server.url + "/v1/chat/completions", json=body, stream=True) as response:
        got = list(response.iter_lines())
    assert got == expected
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 10
    assert attrs["gen_ai.usage.output_tokens"] == 90
    assert attrs["llmobserve.cost.usd"] == pytest.approx((10 * 2.50 + 90 * 10.00) / M, abs=1e-12)
    assert "llmobserve.usage.incomplete" not in attrs
    assert len(spans.all()) == 1


def test_malformed_body(server, spans):
    response = requests.post(server.url + "/v1/bad/chat/completions", json={"model": "gpt-4o"})
    assert response.content == b"not json"
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


def test_connection_error(spans):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    map_host(f"127.0.0.1:{port}", "openai")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", json={"model": "gpt-4o"})
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert [s.name for s in spans.all()] == ["chat gpt-4o"]


def test_internal_host_keeps_the_stock_span_and_propagation(internal_server, spans):
    _with_customer(lambda: requests.post(internal_server.url + "/work", json={}))
    assert spans.provider_calls() == []
    assert [s.name for s in spans.all()] == ["POST"]
    sent = internal_server.requests[-1].headers
    assert "traceparent" in sent and sent["baggage"] == "llmobserve.customer.id=acme"
