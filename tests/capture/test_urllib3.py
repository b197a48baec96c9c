"""Raw urllib3 against a local WireServer mapped as `openai`: one span per call, exact usage and cost.

Prices (per million tokens, https://openai.com/api/pricing, as genai-prices carries them):
gpt-4o $2.50 input, $10.00 output.
"""

from __future__ import annotations

import gzip
import json

import pytest
import urllib3
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
    "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
}
CHAT_COST = (1200 * 2.50 + 300 * 10.00) / M
STREAM_EVENTS = [
    (None, {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": "he"}}]}),
    (None, {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    (
        None,
        {
            "id": "c1",
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": 40, "completion_tokens": 7},
        },
    ),
    (None, "[DONE]"),
]
BODY = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}).encode()
STREAM_BODY = json.dumps({"model": "gpt-4o", "messages": [], "stream": True}).encode()


def _routes() -> list[On]:
    return [
        On("POST", r"/v1/chat/completions", lambda req: _chat(req)),
        On("POST", r"/v1/gzip/chat/completions", lambda req: _gzip_chat()),
        On(
            "POST",
            r"/v1/bad/chat/completions",
            lambda req: Reply(200, b'{"usage": {"prompt', {"content-type": "application/json"}),
        ),
        On(
            "POST", r"/v1/refused/chat/completions", lambda req: Reply.json({"error": {"message": "no"}}, 429)
        ),
        On("GET", r"/v1/models", lambda req: Reply.json({"data": []})),
    ]


def _chat(req) -> Reply:
    if req.json().get("stream"):
        return Reply.sse(STREAM_EVENTS)
    return Reply.json(CHAT_REPLY)


def _gzip_chat() -> Reply:
    return Reply(
        200,
        gzip.compress(json.dumps(CHAT_REPLY).encode()),
        {"content-type": "application/json", "content-encoding": "gzip"},
    )


@pytest.fixture(scope="module")
def server():
    with WireServer(_routes()) as server:
        map_host(server, "openai")
        yield server


@pytest.fixture
def pool(server):
    assert "urllib3" in capture.instrumented()
    with urllib3.PoolManager() as manager:
        yield manager


def _post(pool, server, path: str, body: bytes = BODY, **kw):
    return pool.request(
        "POST",
        server.url + path,
        body=body,
        headers={"content-type": "application/json", "authorization": "Bearer sk-secret"},
        **kw,
    )


def _assert_chat(attrs) -> None:
    assert attrs["llmobserve.provider"] == "openai"
    assert attrs["gen_ai.request.model"] == "gpt-4o"
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.usage.output_tokens"] == 300
    # 1200 * $2.50/M + 300 * $10/M = $0.006
    assert attrs["llmobserve.cost.usd"] == pytest.approx(CHAT_COST, abs=1e-12)
    assert pytest.approx(0.006) == CHAT_COST
    assert "llmobserve.usage.incomplete" not in attrs


def test_preloaded_json(pool, server, spans):
    token = context.attach(baggage.set_baggage("llmobserve.customer.id", "acme"))
    try:
        response = _post(pool, server, "/v1/chat/completions")
    finally:
        context.detach(token)
    assert json.loads(response.data) == CHAT_REPLY
    attrs = spans.one_call()
    _assert_chat(attrs)
    assert attrs["http.response.status_code"] == 200
    assert attrs["url.full"] == f"{server.url}/v1/chat/completions"
    assert [s.name for s in spans.all() if s.kind.name == "CLIENT"] == ["chat gpt-4o"]
    sent = server.requests[-1].headers
    assert "baggage" not in sent and "traceparent" not in sent
    assert "sk-secret" not in json.dumps(dict(spans.provider_calls()[0].attributes))


def test_propagation_headers_set_by_the_caller_do_not_reach_the_provider(pool, server, spans):
    response = pool.request(
        "POST",
        server.url + "/v1/chat/completions",
        body=BODY,
        headers={
            "content-type": "application/json",
            "Baggage": "llmobserve.customer.id=acme",
            "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
        },
    )
    assert response.status == 200
    sent = server.requests[-1].headers
    assert "baggage" not in sent and "traceparent" not in sent
    _assert_chat(spans.one_call())


@pytest.mark.parametrize("amt", [None, 1, 7, 4096])
def test_streamed_read_in_pieces(pool, server, spans, amt):
    response = _post(pool, server, "/v1/chat/completions", preload_content=False)
    assert spans.provider_calls() == []  # the span ends when the body does, not before
    chunks = []
    while chunk := response.read(amt):
        chunks.append(chunk)
        if amt is None:
            break
    response.release_conn()
    assert json.loads(b"".join(chunks)) == CHAT_REPLY
    _assert_chat(spans.one_call())


def test_sse_stream_bytes_untouched(pool, server, spans):
    with suppress_instrumentation():
        expected = b"".join(
            _post(pool, server, "/v1/chat/completions", STREAM_BODY, preload_content=False).stream(3)
        )
    assert spans.all() == []
    response = _post(pool, server, "/v1/chat/completions", STREAM_BODY, preload_content=False)
    assert response.headers["transfer-encoding"] == "chunked"
    got = b"".join(response.stream(3))  # read_chunked: the chunked path
    assert got == expected
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 40
    assert attrs["gen_ai.usage.output_tokens"] == 7
    assert attrs["llmobserve.cost.usd"] == pytest.approx((40 * 2.50 + 7 * 10.00) / M, abs=1e-12)
    assert "llmobserve.usage.incomplete" not in attrs


def test_sse_stream_abandoned_ends_the_span_once(pool, server, spans):
    response = _post(pool, server, "/v1/chat/completions", STREAM_BODY, preload_content=False)
    next(response.read_chunked())
    response.release_conn()
    response.close()
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.incomplete"] is True


def test_unread_response_ends_its_span_when_freed(pool, server, spans):
    import gc

    gc.disable()  # no cycle through our wrappers: freed by refcount alone, without a gc pass
    try:
        response = _post(pool, server, "/v1/chat/completions", preload_content=False)
        del response
        attrs = spans.one_call()
    finally:
        gc.enable()
    assert attrs["llmobserve.usage.incomplete"] is True


@pytest.mark.parametrize("preload", [True, False])
def test_gzip_body(pool, server, spans, preload):
    response = _post(pool, server, "/v1/gzip/chat/completions", preload_content=preload)
    data = response.data if preload else b"".join(response.stream(5))
    assert json.loads(data) == CHAT_REPLY  # urllib3 decoded it for the app as without us
    _assert_chat(spans.one_call())


def test_gzip_body_read_undecoded(pool, server, spans):
    response = _post(pool, server, "/v1/gzip/chat/completions", preload_content=False, decode_content=False)
    raw = response.read()
    assert gzip.decompress(raw) == json.dumps(CHAT_REPLY).encode()
    _assert_chat(spans.one_call())


def test_malformed_body_passes_through(pool, server, spans):
    response = _post(pool, server, "/v1/bad/chat/completions")
    assert response.data == b'{"usage": {"prompt'
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


def test_error_status_is_marked_and_unbilled(pool, server, spans):
    response = _post(pool, server, "/v1/refused/chat/completions")
    assert response.status == 429
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "429"
    assert "llmobserve.cost.usd" not in span.attributes


def test_unbilled_route_on_provider_host_has_no_span(pool, server, spans):
    assert pool.request("GET", server.url + "/v1/models").status == 200
    assert spans.all() == []
    assert "traceparent" not in server.requests[-1].headers


def test_connection_error_is_raised_and_recorded(spans):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    map_host(f"127.0.0.1:{port}", "openai")
    with urllib3.PoolManager() as manager, pytest.raises(urllib3.exceptions.MaxRetryError):
        manager.request("POST", f"http://127.0.0.1:{port}/v1/chat/completions", body=BODY, retries=1)
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "MaxRetryError"
    assert len(spans.provider_calls()) == 1  # the retry inside urlopen is the same call
