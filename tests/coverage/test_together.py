"""Together AI chat (JSON and SSE stream) through the real `together` SDK against a local server
answering the documented OpenAI-compatible shapes (https://docs.together.ai/reference/chat-completions-1).

Price from genai-prices (provider `together`), per million tokens:
  meta-llama/Llama-3.3-70B-Instruct-Turbo: $0.88 input, $0.88 output
"""

from __future__ import annotations

import pytest
import together
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

M = 1_000_000
MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"


def _client(server: WireServer) -> together.Together:
    map_host(server, "together")
    return together.Together(api_key="tgp-test-secret", base_url=server.url, max_retries=0)


@pytest.mark.provider("together")
def test_chat_completion(spans):
    body = chat_body(MODEL, 2500, 750)
    with WireServer([On("POST", "/v1/chat/completions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Capital?"}]
        )
    assert result.choices[0].message.content == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "together"
    assert attrs["gen_ai.response.model"] == MODEL
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (2500, 750)
    # (2500 + 750) tokens * $0.88 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2500 * 0.88 + 750 * 0.88) / M, abs=1e-12)
    assert "tgp-test-secret" not in repr(attrs)


@pytest.mark.provider("together")
def test_chat_stream_usage_in_last_chunk(spans):
    usage = {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    events = [*chat_chunks(MODEL, usage), (None, "[DONE]")]
    with WireServer([On("POST", "/v1/chat/completions", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Capital?"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Paris."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (100, 50)
    # 150 tokens * $0.88 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx(150 * 0.88 / M, abs=1e-12)
