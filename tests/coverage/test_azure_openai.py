"""Azure OpenAI through the real `openai` SDK's AzureOpenAI client against a local server answering
the OpenAI wire format under `/openai/deployments/{deployment}/...`.

The deployment name is the customer's label, not a model: here a deployment named "gpt-4o-mini"
actually serves gpt-4o, and the call is priced as the response's `model` says.
Price from genai-prices (provider `azure`), per million tokens:
  gpt-4o (gpt-4o-2024-08-06): $2.50 input, $1.25 cached input, $10.00 output
"""

from __future__ import annotations

import openai
import pytest
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

from llmobserve_otel.providers import Registry, load

M = 1_000_000
PATH = r"/openai/deployments/gpt-4o-mini/chat/completions"


def _client(server: WireServer) -> openai.AzureOpenAI:
    map_host(server, "azure_openai")
    return openai.AzureOpenAI(
        api_key="azure-test-secret", api_version="2024-10-21", azure_endpoint=server.url, max_retries=0
    )


def test_azure_hosts_are_claimed():
    registry = Registry()
    for host in ("contoso.openai.azure.com", "contoso-eastus.cognitiveservices.azure.com"):
        assert registry.lookup(host) is load("azure_openai")


@pytest.mark.provider("azure_openai")
def test_deployment_name_is_not_the_model(spans):
    body = chat_body("gpt-4o-2024-08-06", 1000, 500, prompt_tokens_details={"cached_tokens": 400})
    with WireServer([On("POST", PATH, lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Capital?"}]
        )
        assert server.requests[-1].path.endswith("?api-version=2024-10-21")
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "azure_openai"
    assert "gen_ai.request.model" not in attrs  # "gpt-4o-mini" is a deployment name
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert "api-version" not in attrs["url.full"]
    # 600 uncached * $2.50 + 400 cached * $1.25 + 500 output * $10.00, per million (gpt-4o, not mini)
    expected = (600 * 2.50 + 400 * 1.25 + 500 * 10.00) / M
    assert expected == pytest.approx(0.007)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert "azure-test-secret" not in repr(attrs)


@pytest.mark.provider("azure_openai")
def test_stream_with_content_filter_first_chunk(spans):
    # Azure's first chunk holds the prompt filter results, with an empty model and no choices.
    filter_chunk = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
    }
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    events = [(None, filter_chunk), *chat_chunks("gpt-4o-2024-08-06", None), (None, "[DONE]")]
    events.insert(-1, (None, {**events[-2][1], "choices": [], "usage": usage}))
    with WireServer([On("POST", PATH, lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Capital?"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    # 100 input * $2.50 + 20 output * $10.00, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((100 * 2.50 + 20 * 10.00) / M, abs=1e-12)
