"""Perplexity Sonar chat and the Agent API (Responses format) through the `openai` SDK pointed at
Perplexity's base URL (as Perplexity documents), against a local server answering the documented
shapes (https://docs.perplexity.ai/api-reference; the `perplexityai` SDK's `UsageInfo` and
`ResponsesUsage` types): OpenAI `usage` plus `search_context_size` and `cost`.

Perplexity reports each call's cost (`usage.cost.total_cost`): that figure prices the call when
present. Without it, Sonar is priced from our data (https://docs.perplexity.ai/getting-started/pricing,
the last published Sonar rates): sonar $1 / 1M input and output tokens, plus a request fee per
1,000 requests of $5 (low search context, the default), $8 (medium), $12 (high). genai-prices
carries only the $12 fee, so these models are priced from our file.
"""

from __future__ import annotations

import openai
import pytest
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

M = 1_000_000


def _client(server: WireServer) -> openai.OpenAI:
    map_host(server, "perplexity")
    return openai.OpenAI(api_key="pplx-test-secret", base_url=server.url, max_retries=0)


@pytest.mark.provider("perplexity")
def test_sonar_tokens_plus_medium_context_request_fee(spans):
    body = chat_body("sonar", 1000, 500, search_context_size="medium", citation_tokens=0)
    body["citations"] = ["https://example.org/paris"]
    with WireServer([On("POST", "/chat/completions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.chat.completions.create(
            model="sonar",
            messages=[{"role": "user", "content": "Capital of France?"}],
            extra_body={"web_search_options": {"search_context_size": "medium"}},
        )
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "perplexity"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1000, 500)
    assert attrs["llmobserve.usage.requests_context_medium"] == 1
    # 1000 input * $1 + 500 output * $1, per million, + $8 / 1,000 requests
    expected = (1000 * 1 + 500 * 1) / M + 8 / 1000
    assert expected == pytest.approx(0.0095)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert "pplx-test-secret" not in repr(attrs)


@pytest.mark.provider("perplexity")
def test_sonar_stream_without_context_size_pays_the_default_low_fee(spans):
    usage = {"prompt_tokens": 200, "completion_tokens": 300, "total_tokens": 500}
    events = [*chat_chunks("sonar", usage), (None, "[DONE]")]
    with WireServer([On("POST", "/chat/completions", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.completions.create(
            model="sonar", messages=[{"role": "user", "content": "Capital?"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.requests_context_low"] == 1
    # 500 tokens * $1 per million + $5 / 1,000 requests
    assert attrs["llmobserve.cost.usd"] == pytest.approx(500 / M + 5 / 1000, abs=1e-12)


@pytest.mark.provider("perplexity")
def test_sonar_reported_cost_wins(spans):
    # Perplexity's own figure: 800 * $1/M + 200 * $1/M + $12 / 1,000 (high context) = $0.013.
    cost = {
        "input_tokens_cost": 0.0008,
        "output_tokens_cost": 0.0002,
        "request_cost": 0.012,
        "total_cost": 0.013,
    }
    body = chat_body("sonar", 800, 200, search_context_size="high", cost=cost)
    with WireServer([On("POST", "/chat/completions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.chat.completions.create(model="sonar", messages=[{"role": "user", "content": "Capital?"}])
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.billed_usd"] == 0.013
    assert attrs["llmobserve.usage.requests_context_high"] == 1
    # The published rates give the same figure: 1000 tokens * $1/M + $12 / 1,000
    published = 1000 * 1 / M + 12 / 1000
    assert published == pytest.approx(0.013)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.013, abs=1e-12)


def _agent_response(usage: dict) -> dict:
    return {
        "id": "resp_ppx_1",
        "object": "response",
        "created_at": 1_764_000_000,
        "model": "openai/gpt-5.2",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
            }
        ],
        "usage": usage,
    }


AGENT_USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "total_tokens": 1500,
    "input_tokens_details": {"cache_read_input_tokens": 200},
    "tool_calls_details": {"web_search": {"invocation": 1}},
    # Tokens at the serving model's rate plus $0.005 for the one web_search call.
    "cost": {
        "currency": "USD",
        "input_cost": 0.0021,
        "output_cost": 0.0042,
        "tool_calls_cost": 0.005,
        "total_cost": 0.0113,
    },
}


@pytest.mark.provider("perplexity")
def test_agent_api_responses_priced_at_the_reported_cost(spans):
    with WireServer(
        [On("POST", "/v1/responses", lambda r: Reply.json(_agent_response(AGENT_USAGE)))]
    ) as server:
        map_host(server, "perplexity")
        client = openai.OpenAI(api_key="pplx-test-secret", base_url=server.url + "/v1", max_retries=0)
        result = client.responses.create(model="openai/gpt-5.2", input="Capital of France?")
    assert result.output_text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.response.model"] == "openai/gpt-5.2"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1200, 300)
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 200
    # input $0.0021 + output $0.0042 + one web_search $0.005 = $0.0113, as Perplexity reports it
    reported = 0.0021 + 0.0042 + 0.005
    assert reported == pytest.approx(0.0113)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.0113, abs=1e-12)


@pytest.mark.provider("perplexity")
def test_agent_api_stream_cost_from_response_completed(spans):
    created = {**_agent_response(AGENT_USAGE), "status": "in_progress", "output": [], "usage": None}
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": created}),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "sequence_number": 1,
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "delta": "Paris.",
                "logprobs": [],
            },
        ),
        (
            "response.completed",
            {"type": "response.completed", "sequence_number": 2, "response": _agent_response(AGENT_USAGE)},
        ),
    ]
    with WireServer([On("POST", "/v1/responses", lambda r: Reply.sse(events))]) as server:
        map_host(server, "perplexity")
        client = openai.OpenAI(api_key="pplx-test-secret", base_url=server.url + "/v1", max_retries=0)
        text = "".join(
            e.delta
            for e in client.responses.create(model="openai/gpt-5.2", input="Capital?", stream=True)
            if e.type == "response.output_text.delta"
        )
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.billed_usd"] == 0.0113
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.0113, abs=1e-12)
