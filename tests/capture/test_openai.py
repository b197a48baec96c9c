"""OpenAI calls through the real `openai` SDK (httpx2 transport) against the local simulator.

Expected costs are computed here from OpenAI's published per-million-token prices
(https://openai.com/api/pricing, the same figures genai-prices carries):
  gpt-4o:                 $2.50 input, $1.25 cached input, $10.00 output
  gpt-4o-mini:            $0.15 input, $0.075 cached input, $0.60 output
  text-embedding-3-small: $0.02 input
"""

from __future__ import annotations

import json

import openai
import pytest

import llmobserve_otel as lo

M = 1_000_000


def usage_header(**usage: int) -> dict[str, str]:
    return {"x-sim-usage": json.dumps(usage)}


@pytest.fixture
def client(sim) -> openai.OpenAI:
    return openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test-secret", max_retries=0)


@pytest.fixture
def aclient(sim) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test-secret", max_retries=0)


@pytest.mark.provider("openai")
def test_chat_completion_cost_customer_and_section(client, spans, sim):
    with lo.customer("acme"), lo.section("agent:research"), lo.section("step:plan"):
        result = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Plan the research."}],
            extra_headers={
                **usage_header(input_tokens=1000, output_tokens=500, cached_tokens=200),
                "x-sim-response-model": "gpt-4o-2024-08-06",
            },
        )
    assert result.usage.prompt_tokens == 1000
    attrs = spans.one_call()
    # 800 uncached * $2.50 + 200 cached * $1.25 + 500 out * $10, per million
    expected = (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / M
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.00725)
    assert attrs["llmobserve.cost.source"] == "sdk"
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "agent:research/step:plan"
    assert attrs["llmobserve.provider"] == "openai"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o"
    assert attrs["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["gen_ai.usage.output_tokens"] == 500
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 200
    assert attrs["http.response.status_code"] == 200
    assert "llmobserve.usage.incomplete" not in attrs
    span = spans.provider_calls()[0]
    assert span.name == "chat gpt-4o"
    assert span.kind.name == "CLIENT"
    # exactly one span for the HTTP call: no stock httpx span beside ours
    assert [s.name for s in spans.all() if s.kind.name == "CLIENT"] == ["chat gpt-4o"]
    # privacy: the key is not recorded, and no context headers went to the provider
    assert "sk-test-secret" not in json.dumps(dict(span.attributes))
    sent = sim.requests[-1].headers
    assert "baggage" not in sent and "traceparent" not in sent
    assert sent["authorization"] == "Bearer sk-test-secret"


def test_chat_reasoning_and_audio_tokens(client, spans):
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "think"}],
        extra_headers=usage_header(
            input_tokens=2000, output_tokens=1000, cached_tokens=1000, reasoning_tokens=600
        ),
    )
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 600
    # 1000 uncached * $0.15 + 1000 cached * $0.075 + 1000 out * $0.60 (reasoning is billed as output)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(
        (1000 * 0.15 + 1000 * 0.075 + 1000 * 0.60) / M, abs=1e-12
    )


@pytest.mark.provider("openai")
def test_chat_stream_with_include_usage(client, spans):
    with lo.customer("globex"):
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "stream please"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=usage_header(input_tokens=120, output_tokens=40),
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 120
    assert attrs["gen_ai.usage.output_tokens"] == 40
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    assert attrs["llmobserve.cost.usd"] == pytest.approx((120 * 2.50 + 40 * 10.00) / M, abs=1e-12)
    assert attrs["llmobserve.customer.id"] == "globex"
    assert "llmobserve.usage.incomplete" not in attrs


def test_chat_stream_without_usage_is_recorded_without_cost(client, spans):
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    for _ in stream:
        pass
    attrs = spans.one_call()
    assert "llmobserve.cost.usd" not in attrs
    assert attrs["llmobserve.cost.status"] == "no_usage"
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert attrs["gen_ai.response.model"] == "gpt-4o"


def test_stream_abandoned_early_ends_span_incomplete(client, spans):
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "long answer"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-sim-events": "50", **usage_header(input_tokens=10, output_tokens=50)},
    )
    next(iter(stream))
    stream.close()
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.incomplete"] is True
    assert attrs["gen_ai.response.model"] == "gpt-4o"
    assert "llmobserve.cost.usd" not in attrs  # usage chunk never arrived: no guess


@pytest.mark.provider("openai")
def test_responses_api(client, spans):
    response = client.responses.create(
        model="gpt-4o-mini",
        input="Summarise the findings.",
        extra_headers=usage_header(
            input_tokens=3000, output_tokens=700, cached_tokens=1000, reasoning_tokens=100
        ),
    )
    assert response.output_text
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 3000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1000
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 100
    assert attrs["llmobserve.cost.usd"] == pytest.approx(
        (2000 * 0.15 + 1000 * 0.075 + 700 * 0.60) / M, abs=1e-12
    )


@pytest.mark.provider("openai")
def test_responses_api_stream(client, spans):
    with client.responses.stream(
        model="gpt-4o",
        input="Stream the summary.",
        extra_headers=usage_header(input_tokens=500, output_tokens=250),
    ) as stream:
        final = stream.get_final_response()
    assert final.usage.output_tokens == 250
    attrs = spans.one_call()
    assert attrs["llmobserve.cost.usd"] == pytest.approx((500 * 2.50 + 250 * 10.00) / M, abs=1e-12)
    assert "llmobserve.usage.incomplete" not in attrs


@pytest.mark.provider("openai")
def test_embeddings(client, spans):
    result = client.embeddings.create(
        model="text-embedding-3-small",
        input=["alpha", "beta"],
        extra_headers=usage_header(input_tokens=5000),
    )
    assert len(result.data) == 2
    attrs = spans.one_call()
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert spans.provider_calls()[0].name == "embeddings text-embedding-3-small"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(5000 * 0.02 / M, abs=1e-12)


@pytest.mark.provider("openai")
async def test_async_chat_and_stream(aclient, spans):
    with lo.customer("initech"):
        async with lo.section("agent:async"):
            await aclient.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "hi"}],
                extra_headers=usage_header(input_tokens=100, output_tokens=10),
            )
            stream = await aclient.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=usage_header(input_tokens=200, output_tokens=20),
            )
            async for _ in stream:
                pass
    calls = sorted(
        (dict(s.attributes) for s in spans.provider_calls()), key=lambda a: a["gen_ai.usage.input_tokens"]
    )
    assert [c["llmobserve.cost.usd"] for c in calls] == [
        pytest.approx((100 * 2.50 + 10 * 10.00) / M, abs=1e-12),
        pytest.approx((200 * 2.50 + 20 * 10.00) / M, abs=1e-12),
    ]
    assert {c["llmobserve.customer.id"] for c in calls} == {"initech"}
    assert {c["llmobserve.section.path"] for c in calls} == {"agent:async"}


def test_unknown_model_gets_usage_status_and_no_cost(client, spans):
    client.chat.completions.create(
        model="my-private-finetune",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=usage_header(input_tokens=10, output_tokens=5),
    )
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 10
    assert "llmobserve.cost.usd" not in attrs
    assert attrs["llmobserve.cost.status"] == "unknown_model"
    assert "my-private-finetune" in attrs["llmobserve.cost.reason"]


@pytest.mark.provider("openai")
def test_a_negotiated_rate_in_the_pricing_file_prices_the_wire_call(client, spans, user_prices):
    """The capture's pricing shortcut (genai-prices' rate) gives way to the user's own entry."""
    headers = usage_header(input_tokens=2000, output_tokens=300)
    messages = [{"role": "user", "content": "hi"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, extra_headers=headers)
    # genai-prices: $0.15 in, $0.60 out per million
    assert spans.one_call()["llmobserve.cost.usd"] == pytest.approx((2000 * 0.15 + 300 * 0.60) / M, abs=1e-12)
    user_prices(
        'provider = "openai"\n[[prices]]\nmodel = "gpt-4o-mini"\nsource = "our contract"\n'
        'per = 1000000\nrates = { input_tokens = "0.10", output_tokens = "0.40" }\n'
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, extra_headers=headers)
    # the contract: $0.10 in, $0.40 out per million
    _, second = spans.provider_calls()
    attrs = dict(second.attributes or {})
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2000 * 0.10 + 300 * 0.40) / M, abs=1e-12)
    assert attrs["llmobserve.cost.status"] == "priced"
