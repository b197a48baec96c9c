"""Hugging Face Inference Providers chat through the real `huggingface_hub` InferenceClient against a
local server answering the router's OpenAI-compatible shape
(https://huggingface.co/docs/inference-providers/tasks/chat-completion).

Billing unit: tokens at the serving provider's rate, which Hugging Face passes through without
markup (https://huggingface.co/docs/inference-providers/pricing); the request names the provider
(`model:provider`, or the `/{provider}/` route). Prices from our data (rates listed at
https://huggingface.co/inference/models, as genai-prices' huggingface_<provider> carries them),
per million tokens:
  openai/gpt-oss-120b on groq: $0.15 input, $0.75 output
  openai/gpt-oss-120b on cerebras: $0.35 input, $0.75 output
"""

from __future__ import annotations

import pytest
from huggingface_hub import InferenceClient
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

M = 1_000_000


def _serve(body_or_events, stream: bool = False) -> On:
    reply = (lambda r: Reply.sse(body_or_events)) if stream else (lambda r: Reply.json(body_or_events))
    return On("POST", r"(/[a-z0-9-]+)?/v1/chat/completions", reply)


@pytest.mark.provider("huggingface")
def test_router_chat_with_model_provider_suffix(spans):
    # The router answers with the serving provider's own model id.
    body = chat_body("openai/gpt-oss-120b", 1000, 200)
    with WireServer([_serve(body)]) as server:
        map_host(server, "huggingface")
        client = InferenceClient(base_url=server.url, api_key="hf_test_secret")
        result = client.chat_completion(
            messages=[{"role": "user", "content": "Capital?"}], model="openai/gpt-oss-120b:groq"
        )
    assert result.choices[0].message.content == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "huggingface"
    assert attrs["gen_ai.request.model"] == "openai/gpt-oss-120b:groq"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1000, 200)
    # Groq's rate: 1000 input * $0.15 + 200 output * $0.75, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1000 * 0.15 + 200 * 0.75) / M, abs=1e-12)
    assert "hf_test_secret" not in repr(attrs)


@pytest.mark.provider("huggingface")
def test_router_provider_path_stream(spans):
    usage = {"prompt_tokens": 2000, "completion_tokens": 400, "total_tokens": 2400}
    events = [*chat_chunks("gpt-oss-120b", usage), (None, "[DONE]")]
    with WireServer([_serve(events, stream=True)]) as server:
        map_host(server, "huggingface")
        # As the client builds it for provider="cerebras": https://router.huggingface.co/cerebras/v1/...
        client = InferenceClient(base_url=server.url + "/cerebras", api_key="hf_test_secret")
        stream = client.chat_completion(
            messages=[{"role": "user", "content": "Capital?"}], model="openai/gpt-oss-120b", stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert server.requests[-1].path == "/cerebras/v1/chat/completions"
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "openai/gpt-oss-120b:cerebras"
    # Cerebras' rate: 2000 input * $0.35 + 400 output * $0.75, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2000 * 0.35 + 400 * 0.75) / M, abs=1e-12)


@pytest.mark.provider("huggingface")
def test_router_choosing_the_provider_records_tokens_without_a_cost(spans):
    body = chat_body("openai/gpt-oss-120b", 10, 5)
    with WireServer([_serve(body)]) as server:
        map_host(server, "huggingface")
        client = InferenceClient(base_url=server.url, api_key="hf_test_secret")
        client.chat_completion(
            messages=[{"role": "user", "content": "?"}], model="openai/gpt-oss-120b:fastest"
        )
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (10, 5)
    assert "llmobserve.cost.usd" not in attrs
    assert attrs["llmobserve.cost.status"] == "unknown_model"
