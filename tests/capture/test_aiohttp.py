"""aiohttp client capture: one priced span per provider call, bytes untouched, no baggage to providers.

Against a WireServer mapped as `openai`. gpt-4o-mini-2024-07-18 on genai-prices: $0.15 input,
$0.075 cached input, $0.60 output per million tokens.
"""

from __future__ import annotations

import gc
import gzip
import json
import time

import aiohttp
import pytest
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

MODEL = "gpt-4o-mini-2024-07-18"
CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "total_tokens": 1500,
        "prompt_tokens_details": {"cached_tokens": 200},
    },
}
# 1000 uncached x 0.15 + 200 cached x 0.075 + 300 x 0.60, per million
CHAT_COST = (1000 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1e6
REQUEST = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _stream_events() -> list[tuple[None, object]]:
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    return [
        (None, {**chunk, "choices": [{"index": 0, "delta": {"content": "h"}, "finish_reason": None}]}),
        (None, {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        (None, {**chunk, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 4}}),
        (None, "[DONE]"),
    ]


def _slow_events():
    """The first event, then the rest only after the client has long given up."""
    events = _stream_events()
    yield events[0]
    time.sleep(1.0)
    yield from events[1:]


async def fetch(
    method: str, url: str, *, lines: bool = False, session: dict | None = None, **kwargs
) -> bytes:
    """One request on a fresh session; the body read whole, or line by line as SSE clients do."""
    async with aiohttp.ClientSession(**(session or {})) as client, client.request(method, url, **kwargs) as r:
        return b"".join([line async for line in r.content]) if lines else await r.read()


@pytest.fixture
def server():
    routes = [
        On("POST", r"/v1/chat/completions", lambda r: Reply.json(CHAT)),
        On(
            "POST",
            r"/gz/v1/chat/completions",
            lambda r: Reply(
                200,
                gzip.compress(json.dumps(CHAT).encode()),
                {"content-type": "application/json", "content-encoding": "gzip"},
            ),
        ),
        On("POST", r"/sse/v1/chat/completions", lambda r: Reply.sse(_stream_events())),
        On("POST", r"/slow/v1/chat/completions", lambda r: Reply.sse(_slow_events())),
        On(
            "POST",
            r"/bad/v1/chat/completions",
            lambda r: Reply(200, b'{"id": "x", "usage": ', {"content-type": "application/json"}),
        ),
        On("GET", r"/v1/models", lambda r: Reply.json({"data": []})),
    ]
    with WireServer(routes) as wire:
        map_host(wire, "openai")
        yield wire


async def test_json_call_is_one_priced_span_and_no_baggage_reaches_the_provider(server, spans):
    with lo.customer("acme"), lo.section("agent:a"):
        body = json.loads(await fetch("POST", server.url + "/v1/chat/completions", json=REQUEST))
    assert body == CHAT
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.response.model"] == MODEL
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 200
    assert attrs["gen_ai.usage.output_tokens"] == 300
    assert attrs["llmobserve.cost.usd"] == pytest.approx(CHAT_COST, abs=1e-12)
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "agent:a"
    assert "llmobserve.usage.incomplete" not in attrs
    # Only our span and the section's: the stock aiohttp-client span was suppressed.
    assert sorted(s.name for s in spans.all()) == ["agent:a", "chat gpt-4o-mini"]
    headers = server.requests[-1].headers
    assert "baggage" not in headers and "traceparent" not in headers


async def test_sse_stream_read_line_by_line_is_untouched_and_priced(server, spans):
    expected = b"".join(
        f"data: {d if isinstance(d, str) else json.dumps(d)}\n\n".encode() for _, d in _stream_events()
    )
    url = server.url + "/sse/v1/chat/completions"
    received = await fetch("POST", url, lines=True, json={**REQUEST, "stream": True})
    assert received == expected
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (10, 4)
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["llmobserve.cost.usd"] == pytest.approx((10 * 0.15 + 4 * 0.60) / 1e6, abs=1e-12)


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_gzip_body_either_way(server, spans, auto_decompress):
    url = server.url + "/gz/v1/chat/completions"
    raw = await fetch("POST", url, session={"auto_decompress": auto_decompress}, json=REQUEST)
    assert (raw if auto_decompress else gzip.decompress(raw)) == json.dumps(CHAT).encode()
    assert spans.one_call()["llmobserve.cost.usd"] == pytest.approx(CHAT_COST, abs=1e-12)


async def test_malformed_body_reaches_the_app_and_the_span_says_so(server, spans):
    raw = await fetch("POST", server.url + "/bad/v1/chat/completions", json=REQUEST)
    assert raw == b'{"id": "x", "usage": '
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


async def test_unread_response_ends_its_span_when_freed(server, spans):
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            server.url + "/slow/v1/chat/completions", json={**REQUEST, "stream": True}
        )
        response.release()
        del response
        gc.collect()
    [call] = spans.provider_calls()
    assert call.attributes["llmobserve.usage.incomplete"] is True
    assert "gen_ai.usage.input_tokens" not in call.attributes  # the usage event never came
    assert call.status.is_ok  # the app letting go of a response is not a failed call


async def test_connection_error_reaches_the_app_and_ends_the_span(spans):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    map_host(f"127.0.0.1:{port}", "openai")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=REQUEST)
    [call] = spans.provider_calls()
    assert call.status.is_ok is False
    assert call.attributes["error.type"].endswith("ClientConnectorError")


async def test_unbilled_route_on_a_provider_host_gets_no_span_and_no_headers(server, spans):
    with lo.customer("acme"):
        assert json.loads(await fetch("GET", server.url + "/v1/models")) == {"data": []}
    assert spans.provider_calls() == []
    assert "baggage" not in server.requests[-1].headers
