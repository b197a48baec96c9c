"""Cohere v2 chat (JSON and SSE stream), embed and rerank through the real `cohere` SDK against a
local server answering the documented shapes (https://docs.cohere.com/reference/chat,
/reference/chat-stream, /reference/embed, /reference/rerank).

Prices: tokens from genai-prices (provider `cohere`), per million tokens:
  command-a (command-a-03-2025): $2.50 input, $10.00 output
  command-r (command-r-08-2024): $0.15 input, $0.60 output
  embed-v4.0: $0.12 input
Rerank from our data (https://cohere.com/pricing): rerank-v3.5 $2.00 per 1,000 searches, a search
being one query with up to 100 documents (the response's `meta.billed_units.search_units`).
"""

from __future__ import annotations

import json

import cohere
import pytest
from llm_bodies import sse_bytes, usage_at_every_split
from wire import On, Reply, WireServer, map_host

from llmobserve_otel.providers import cohere as provider_module

M = 1_000_000


def _client(server: WireServer) -> cohere.ClientV2:
    map_host(server, "cohere")
    return cohere.ClientV2(api_key="co-test-secret", base_url=server.url)


CHAT = {
    "id": "chat-1",
    "finish_reason": "COMPLETE",
    "message": {"role": "assistant", "content": [{"type": "text", "text": "Bonjour."}]},
    # Billed units are what Cohere charges; `tokens` counts tokens Cohere adds under the hood too.
    "usage": {
        "billed_units": {"input_tokens": 1000, "output_tokens": 200},
        "tokens": {"input_tokens": 1112, "output_tokens": 214},
    },
}


@pytest.mark.provider("cohere")
def test_chat_v2_billed_units(spans):
    with WireServer([On("POST", "/v2/chat", lambda r: Reply.json(CHAT))]) as server:
        client = _client(server)
        result = client.chat(model="command-a-03-2025", messages=[{"role": "user", "content": "Salut"}])
        sent = server.requests[-1]
    assert result.message.content[0].text == "Bonjour."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "cohere"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "command-a-03-2025"
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["gen_ai.usage.output_tokens"] == 200
    assert attrs["gen_ai.response.id"] == "chat-1"
    assert attrs["gen_ai.response.finish_reasons"] == ("COMPLETE",)
    # 1000 billed input * $2.50 + 200 billed output * $10.00, per million
    expected = (1000 * 2.50 + 200 * 10.00) / M
    assert expected == pytest.approx(0.0045)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert "co-test-secret" not in json.dumps(dict(attrs))
    assert "traceparent" not in sent.headers and "baggage" not in sent.headers


def _stream_events() -> list[tuple[str, dict]]:
    """A v2 chat stream as Cohere's servers send it: event name and the same `type` in the data."""
    return [
        (
            "message-start",
            {
                "id": "chat-s",
                "type": "message-start",
                "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": []}},
            },
        ),
        (
            "content-start",
            {
                "type": "content-start",
                "index": 0,
                "delta": {"message": {"content": {"type": "text", "text": ""}}},
            },
        ),
        (
            "content-delta",
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Bon"}}}},
        ),
        (
            "content-delta",
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "jour."}}}},
        ),
        ("content-end", {"type": "content-end", "index": 0}),
        (
            "message-end",
            {
                "type": "message-end",
                "delta": {
                    "finish_reason": "COMPLETE",
                    "usage": {
                        "billed_units": {"input_tokens": 3000, "output_tokens": 500},
                        "tokens": {"input_tokens": 3100, "output_tokens": 510},
                    },
                },
            },
        ),
    ]


@pytest.mark.provider("cohere")
def test_chat_v2_stream_usage_from_message_end(spans):
    reply = On("POST", "/v2/chat", lambda r: Reply.sse(_stream_events()))
    with WireServer([reply]) as server:
        client = _client(server)
        text = ""
        for event in client.chat_stream(
            model="command-r-08-2024", messages=[{"role": "user", "content": "Salut"}]
        ):
            if event.type == "content-delta":
                text += event.delta.message.content.text
        assert server.requests[-1].json()["stream"] is True
    assert text == "Bonjour."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 3000
    assert attrs["gen_ai.usage.output_tokens"] == 500
    assert attrs["gen_ai.response.id"] == "chat-s"
    assert attrs["gen_ai.response.finish_reasons"] == ("COMPLETE",)
    assert "llmobserve.usage.incomplete" not in attrs
    # 3000 input * $0.15 + 500 output * $0.60, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((3000 * 0.15 + 500 * 0.60) / M, abs=1e-12)


@pytest.mark.provider("cohere")
def test_embed_v2_billed_input_tokens(spans):
    body = {
        "id": "emb-1",
        "response_type": "embeddings_by_type",
        "embeddings": {"float": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]},
        "texts": ["first document", "second document"],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2500}},
    }
    with WireServer([On("POST", "/v2/embed", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.embed(
            model="embed-v4.0",
            texts=["first document", "second document"],
            input_type="search_document",
            embedding_types=["float"],
        )
    assert len(result.embeddings.float_) == 2
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 2500
    # 2500 input tokens * $0.12 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2500 * 0.12 / M, abs=1e-12)


@pytest.mark.provider("cohere")
def test_rerank_priced_per_search_unit(spans):
    body = {
        "id": "rr-1",
        "results": [{"index": 1, "relevance_score": 0.91}, {"index": 0, "relevance_score": 0.12}],
        # 150 documents: two searches of up to 100 documents each.
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 2}},
    }
    documents = [f"document {i}" for i in range(150)]
    with WireServer([On("POST", "/v2/rerank", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.rerank(model="rerank-v3.5", query="which one?", documents=documents, top_n=2)
    assert [r.index for r in result.results] == [1, 0]
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "rerank"
    assert attrs["gen_ai.request.model"] == "rerank-v3.5"
    assert attrs["llmobserve.usage.search_units"] == 2
    # 2 searches * $2.00 / 1,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2 * 2.00 / 1000, abs=1e-12)


@pytest.mark.provider("cohere")
def test_rate_limited_chat_is_an_error_span_without_cost(spans):
    reply = On("POST", "/v2/chat", lambda r: Reply.json({"message": "You are using a Trial key"}, 429))
    with WireServer([reply]) as server:
        client = cohere.ClientV2(api_key="co-test-secret", base_url=server.url, timeout=5)
        map_host(server, "cohere")
        with pytest.raises(cohere.errors.TooManyRequestsError) as raised:
            client.chat(
                model="command-a-03-2025",
                messages=[{"role": "user", "content": "Salut"}],
                request_options={"max_retries": 0},
            )
    assert raised.value.body == {"message": "You are using a Trial key"}
    [call] = spans.provider_calls()
    attrs = dict(call.attributes or {})
    assert attrs["http.response.status_code"] == 429
    assert attrs["error.type"] == "429"
    assert call.status.status_code.name == "ERROR"
    assert "llmobserve.cost.usd" not in attrs


def test_stream_usage_is_the_same_at_every_split_point():
    body = sse_bytes(_stream_events())
    usages = usage_at_every_split(provider_module, provider_module.CHAT, body, stream=True)
    assert {(u.input_tokens, u.output_tokens, u.response_id) for u in usages} == {(3000, 500, "chat-s")}


@pytest.mark.provider("cohere")
def test_chat_v1_meta_billed_units(spans):
    body = {
        "response_id": "resp-v1",
        "text": "Bonjour.",
        "generation_id": "gen-1",
        "finish_reason": "COMPLETE",
        "meta": {
            "api_version": {"version": "1"},
            "billed_units": {"input_tokens": 400, "output_tokens": 100},
        },
    }
    with WireServer([On("POST", "/v1/chat", lambda r: Reply.json(body))]) as server:
        map_host(server, "cohere")
        client = cohere.Client(api_key="co-test-secret", base_url=server.url)
        result = client.chat(model="command-r-08-2024", message="Salut")
    assert result.text == "Bonjour."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (400, 100)
    # 400 input * $0.15 + 100 output * $0.60, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((400 * 0.15 + 100 * 0.60) / M, abs=1e-12)


@pytest.mark.provider("cohere")
async def test_async_chat_stream(spans):
    with WireServer([On("POST", "/v2/chat", lambda r: Reply.sse(_stream_events()))]) as server:
        map_host(server, "cohere")
        client = cohere.AsyncClientV2(api_key="co-test-secret", base_url=server.url)
        text = ""
        async for event in client.chat_stream(
            model="command-r-08-2024", messages=[{"role": "user", "content": "Salut"}]
        ):
            if event.type == "content-delta":
                text += event.delta.message.content.text
    assert text == "Bonjour."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (3000, 500)
    assert attrs["llmobserve.cost.usd"] == pytest.approx((3000 * 0.15 + 500 * 0.60) / M, abs=1e-12)
