"""Perplexity Sonar chat through the `openai` SDK pointed at the Perplexity base URL (as Perplexity
documents), against a local server answering the documented shape
(https://docs.perplexity.ai/api-reference/chat-completions-post): OpenAI `usage` plus
`usage.search_context_size`.

Prices from our data (https://docs.perplexity.ai/getting-started/pricing, the last published
Sonar rates): sonar $1 / 1M input and output tokens, plus a request fee per 1,000 requests of
$5 (low search context, the default), $8 (medium), $12 (high). genai-prices carries only the
$12 fee, so these models are priced from our file.
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
