"""Google Gemini through the real `google-genai` SDK against a local server answering the
documented GenerateContentResponse (https://ai.google.dev/api/generate-content).

Prices from genai-prices (provider `google`), per million tokens:
  gemini-2.5-flash: $0.30 input, $0.03 cached input, $2.50 output (thinking tokens bill as output)
  gemini-2.0-flash: $0.10 input, $0.40 output
"""

from __future__ import annotations

import json

import httpx
import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials
from llm_bodies import sse_bytes, usage_at_every_split
from wire import On, Reply, WireServer, map_host

from llmobserve_otel.providers import Registry
from llmobserve_otel.providers import gemini as provider_module

M = 1_000_000
PATH = r"/v1(beta)?/models/[^/]+:{method}"


def _response(usage: dict | None, model: str = "gemini-2.5-flash", finish: str | None = "STOP") -> dict:
    candidate: dict = {"content": {"parts": [{"text": "Paris."}], "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-1"}
    if usage is not None:
        body["usageMetadata"] = usage
    return body


def _client(server: WireServer) -> genai.Client:
    map_host(server, "gemini")
    return genai.Client(api_key="AIza-test-secret", http_options=types.HttpOptions(base_url=server.url))


@pytest.mark.provider("gemini")
def test_generate_content_with_cache_and_thinking_tokens(spans):
    usage = {
        "promptTokenCount": 1200,  # includes the 200 cached tokens
        "cachedContentTokenCount": 200,
        "candidatesTokenCount": 300,
        "thoughtsTokenCount": 200,  # billed as output, not part of candidatesTokenCount
        "totalTokenCount": 1700,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1200}],
    }
    reply = On("POST", PATH.format(method="generateContent"), lambda r: Reply.json(_response(usage)))
    with WireServer([reply]) as server:
        client = _client(server)
        result = client.models.generate_content(model="gemini-2.5-flash", contents="Capital?")
        sent = server.requests[-1]
    assert result.text == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "gemini"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gemini-2.5-flash"
    assert attrs["gen_ai.response.model"] == "gemini-2.5-flash"
    assert attrs["gen_ai.response.id"] == "resp-1"
    assert attrs["gen_ai.response.finish_reasons"] == ("STOP",)
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 200
    assert attrs["gen_ai.usage.output_tokens"] == 500
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 200
    # 1000 uncached * $0.30 + 200 cached * $0.03 + (300 + 200) output * $2.50, per million
    expected = (1000 * 0.30 + 200 * 0.03 + 500 * 2.50) / M
    assert expected == pytest.approx(0.001556)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert "AIza-test-secret" not in json.dumps(dict(attrs))
    assert "traceparent" not in sent.headers and "baggage" not in sent.headers


@pytest.mark.provider("gemini")
def test_tool_use_prompt_tokens_are_billed_as_input(spans):
    usage = {
        "promptTokenCount": 800,
        "toolUsePromptTokenCount": 200,
        "candidatesTokenCount": 100,
        "totalTokenCount": 1100,
    }
    body = _response(usage, model="gemini-2.0-flash-001")
    with WireServer(
        [On("POST", PATH.format(method="generateContent"), lambda r: Reply.json(body))]
    ) as server:
        client = _client(server)
        client.models.generate_content(model="gemini-2.0-flash", contents="Search it.")
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["gen_ai.usage.output_tokens"] == 100
    # (800 + 200) input * $0.10 + 100 output * $0.40, per million (gemini-2.0-flash-001 -> gemini-2.0-flash)
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1000 * 0.10 + 100 * 0.40) / M, abs=1e-12)


def _sse(chunks: list[dict]) -> Reply:
    # The Gemini API separates events with CRLF pairs.
    encoded = [f"data: {json.dumps(c)}\r\n\r\n".encode() for c in chunks]
    return Reply(200, b"", {"content-type": "text/event-stream"}, iter(encoded))


@pytest.mark.provider("gemini")
def test_stream_generate_content_sse_last_usage_wins(spans):
    chunks = [
        {
            "candidates": [{"content": {"parts": [{"text": "Par"}], "role": "model"}, "index": 0}],
            "usageMetadata": {"promptTokenCount": 40, "totalTokenCount": 40},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-s",
        },
        {
            "candidates": [
                {"content": {"parts": [{"text": "is."}], "role": "model"}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": 40,
                "candidatesTokenCount": 12,
                "thoughtsTokenCount": 8,
                "totalTokenCount": 60,
            },
            "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-s",
        },
    ]
    with WireServer(
        [On("POST", PATH.format(method="streamGenerateContent"), lambda r: _sse(chunks))]
    ) as server:
        client = _client(server)
        stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Capital?")
        text = "".join(chunk.text or "" for chunk in stream)
        assert server.requests[-1].path.endswith(":streamGenerateContent?alt=sse")
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 40
    assert attrs["gen_ai.usage.output_tokens"] == 20
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 8
    assert attrs["gen_ai.response.finish_reasons"] == ("STOP",)
    assert "llmobserve.usage.incomplete" not in attrs
    # 40 input * $0.30 + (12 + 8) output * $2.50, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((40 * 0.30 + 20 * 2.50) / M, abs=1e-12)


@pytest.mark.provider("gemini")
def test_malformed_usage_leaves_the_answer_alone_and_marks_the_span(spans):
    """LLM family malformed-response test: an empty usage object, then no usage at all."""
    bad = _response({})
    missing = _response(None)
    replies = iter([bad, missing])
    with WireServer(
        [On("POST", PATH.format(method="generateContent"), lambda r: Reply.json(next(replies)))]
    ) as server:
        client = _client(server)
        first = client.models.generate_content(model="gemini-2.5-flash", contents="a")
        second = client.models.generate_content(model="gemini-2.5-flash", contents="b")
    assert first.text == second.text == "Paris."
    calls = [dict(s.attributes or {}) for s in spans.provider_calls()]
    assert len(calls) == 2
    for attrs in calls:
        assert "gen_ai.usage.input_tokens" not in attrs
        assert "llmobserve.cost.usd" not in attrs
        assert attrs["llmobserve.cost.status"] == "no_usage"
    assert calls[0]["llmobserve.usage.status"] == "no usage in response"
    assert calls[1]["llmobserve.usage.status"] == "no usage in response"


@pytest.mark.provider("gemini")
def test_truncated_json_body_reaches_the_app_unchanged(spans):
    truncated = b'{"candidates": [{"content": {"parts": [{"text": "Par'
    reply = On(
        "POST",
        PATH.format(method="generateContent"),
        lambda r: Reply(200, truncated, {"content-type": "application/json"}),
    )
    with WireServer([reply]) as server:
        client = _client(server)
        # The SDK's own parse error, at the very byte where the server's body stops.
        with pytest.raises(json.JSONDecodeError) as raised:
            client.models.generate_content(model="gemini-2.5-flash", contents="a")
    assert raised.value.doc == truncated.decode() and raised.value.pos == truncated.rindex(b'"Par')
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert attrs["llmobserve.cost.status"] == "no_usage"
    assert "llmobserve.cost.usd" not in attrs


def test_stream_usage_is_the_same_at_every_split_point():
    chunks = [
        {"candidates": [{"content": {"parts": [{"text": "Pa"}]}}], "usageMetadata": {"promptTokenCount": 7}},
        {
            "candidates": [{"content": {"parts": [{"text": "ris"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 3, "thoughtsTokenCount": 2},
            "modelVersion": "gemini-2.5-flash",
        },
    ]
    route = provider_module.match("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    usages = usage_at_every_split(
        provider_module, route, sse_bytes([(None, c) for c in chunks], "\r\n"), stream=True
    )
    assert {(u.input_tokens, u.output_tokens, u.model) for u in usages} == {(7, 5, "gemini-2.5-flash")}


def test_vertex_ai_paths_name_the_model():
    path = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    assert provider_module.match("POST", path).model == "gemini-2.5-flash"
    assert provider_module.match("POST", "/v1beta/models/gemini-2.5-flash:countTokens") is None
    assert provider_module.match("GET", "/v1beta/models/gemini-2.5-flash:generateContent") is None
    assert Registry().lookup("us-central1-aiplatform.googleapis.com") is provider_module


@pytest.mark.provider("gemini")
async def test_async_generate_content_on_httpx(spans):
    usage = {"promptTokenCount": 100, "candidatesTokenCount": 50, "totalTokenCount": 150}
    body = _response(usage)
    route = On("POST", PATH.format(method="generateContent"), lambda r: Reply.json(body))
    with WireServer([route]) as server:
        map_host(server, "gemini")
        async with httpx.AsyncClient() as http:
            options = types.HttpOptions(base_url=server.url, httpx_async_client=http)
            client = genai.Client(api_key="AIza-test-secret", http_options=options)
            result = await client.aio.models.generate_content(model="gemini-2.5-flash", contents="Capital?")
    assert result.text == "Paris."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (100, 50)
    # 100 input * $0.30 + 50 output * $2.50, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((100 * 0.30 + 50 * 2.50) / M, abs=1e-12)


@pytest.mark.provider("gemini")
async def test_async_generate_content_on_aiohttp(spans):
    # google-genai's async client sends through aiohttp when it is installed (it is, here).
    body = _response({"promptTokenCount": 1000, "candidatesTokenCount": 100, "totalTokenCount": 1100})
    route = On("POST", PATH.format(method="generateContent"), lambda r: Reply.json(body))
    with WireServer([route]) as server:
        client = _client(server)
        await client.aio.models.generate_content(model="gemini-2.5-flash", contents="Capital?")
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1000, 100)
    # gemini-2.5-flash (genai-prices): $0.30 input, $2.50 output per million tokens
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1000 * 0.30 + 100 * 2.50) / 1e6, abs=1e-12)


@pytest.mark.provider("gemini")
def test_vertex_ai_generate_content(spans):
    usage = {
        "promptTokenCount": 100,
        "candidatesTokenCount": 30,
        "totalTokenCount": 130,
        "trafficType": "ON_DEMAND",
    }
    route = On(
        "POST",
        r"/v1beta1/projects/p/locations/us-central1/publishers/google/models/[^/]+:generateContent",
        lambda r: Reply.json(_response(usage)),
    )
    with WireServer([route]) as server:
        map_host(server, "gemini")
        client = genai.Client(
            vertexai=True,
            project="p",
            location="us-central1",
            credentials=Credentials(token="ya29.test-token"),
            http_options=types.HttpOptions(base_url=server.url),
        )
        result = client.models.generate_content(model="gemini-2.5-flash", contents="Capital?")
        assert server.requests[-1].headers["authorization"] == "Bearer ya29.test-token"
    assert result.text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "gemini-2.5-flash"
    assert "ya29.test-token" not in json.dumps(dict(attrs))
    # 100 input * $0.30 + 30 output * $2.50, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((100 * 0.30 + 30 * 2.50) / M, abs=1e-12)
