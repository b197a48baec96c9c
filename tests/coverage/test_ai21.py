"""AI21 Jamba chat (JSON and SSE stream) through the real `ai21` SDK against a local server answering
the documented shape (https://docs.ai21.com/reference/jamba-1-6-api-ref).

Prices from our data (https://www.ai21.com/pricing/; genai-prices has no AI21), per million tokens:
  jamba-large: $2.00 input, $8.00 output
  jamba-mini: $0.20 input, $0.40 output
"""

from __future__ import annotations

import pytest
from ai21 import AI21Client
from ai21.models.chat import ChatMessage
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

M = 1_000_000
PATH = r"/studio/v1/chat/completions"


def _client(server: WireServer) -> AI21Client:
    map_host(server, "ai21")
    return AI21Client(api_key="ai21-test-secret", api_host=server.url + "/studio/v1", num_retries=0)


@pytest.mark.provider("ai21")
def test_jamba_chat(spans):
    body = chat_body("jamba-large-1.7-2025-07", 3000, 600)
    with WireServer([On("POST", PATH, lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.chat.completions.create(
            model="jamba-large", messages=[ChatMessage(role="user", content="Capital?")]
        )
    assert result.choices[0].message.content == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "ai21"
    assert attrs["gen_ai.request.model"] == "jamba-large"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (3000, 600)
    # 3000 input * $2.00 + 600 output * $8.00, per million
    expected = (3000 * 2.00 + 600 * 8.00) / M
    assert expected == pytest.approx(0.0108)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert "ai21-test-secret" not in repr(attrs)


@pytest.mark.provider("ai21")
def test_jamba_chat_stream(spans):
    usage = {"prompt_tokens": 5000, "completion_tokens": 1000, "total_tokens": 6000}
    events = [*chat_chunks("jamba-mini", usage), (None, "[DONE]")]
    with WireServer([On("POST", PATH, lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.completions.create(
            model="jamba-mini", messages=[ChatMessage(role="user", content="Capital?")], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Paris."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (5000, 1000)
    # 5000 input * $0.20 + 1000 output * $0.40, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((5000 * 0.20 + 1000 * 0.40) / M, abs=1e-12)
