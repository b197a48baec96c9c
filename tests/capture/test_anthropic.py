"""Anthropic Messages through the real `anthropic` SDK (httpx2) against the local simulator.

Anthropic reports `input_tokens` WITHOUT cached tokens; GenAI semconv counts them in, so the span's
`gen_ai.usage.input_tokens` is input + cache_read + cache_creation. Expected costs from Anthropic's
published prices per million tokens (https://www.anthropic.com/pricing, also in genai-prices):
  claude-sonnet-4-5: $3.00 input, $0.30 cache read, $3.75 cache write (5 min), $15.00 output
"""

from __future__ import annotations

import json

import anthropic
import pytest

import llmobserve_otel as lo

M = 1_000_000
USAGE = {
    "input_tokens": 1000,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 500,
    "output_tokens": 300,
}
# 1000 * $3 + 2000 * $0.30 + 500 * $3.75 + 300 * $15, per million
EXPECTED = (1000 * 3.00 + 2000 * 0.30 + 500 * 3.75 + 300 * 15.00) / M


@pytest.fixture
def client(anthropic_sim) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=anthropic_sim.url, api_key="sk-ant-secret", max_retries=0)


def _check(attrs: dict) -> None:
    assert pytest.approx(0.009975) == EXPECTED
    assert attrs["llmobserve.cost.usd"] == pytest.approx(EXPECTED, abs=1e-12)
    assert attrs["gen_ai.usage.input_tokens"] == 3500
    assert attrs["gen_ai.usage.output_tokens"] == 300
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2000
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 500
    assert attrs["llmobserve.provider"] == "anthropic"
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.response.model"] == "claude-sonnet-4-5"


@pytest.mark.provider("anthropic")
def test_messages(client, spans, anthropic_sim):
    with lo.customer("acme"), lo.section("agent:writer"):
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=512,
            messages=[{"role": "user", "content": "Write it."}],
            extra_headers={"x-sim-usage": json.dumps(USAGE)},
        )
    assert message.usage.input_tokens == 1000
    attrs = spans.one_call()
    _check(attrs)
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "agent:writer"
    sent = anthropic_sim.requests[-1].headers
    # The anthropic SDK writes its own traceparent (its choice); customer and section never leave.
    assert "baggage" not in sent
    assert "acme" not in json.dumps(sent)
    assert "sk-ant-secret" not in json.dumps(dict(spans.provider_calls()[0].attributes))


@pytest.mark.provider("anthropic")
def test_messages_stream(client, spans):
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": "Stream it."}],
        extra_headers={"x-sim-usage": json.dumps(USAGE)},
    ) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens == 300
    attrs = spans.one_call()
    _check(attrs)
    assert attrs["gen_ai.request.stream"] is True
    assert "llmobserve.usage.incomplete" not in attrs


def test_raw_stream_abandoned(client, spans):
    stream = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": "Stream it."}],
        stream=True,
        extra_headers={"x-sim-usage": json.dumps(USAGE), "x-sim-events": "40"},
    )
    events = iter(stream)
    next(events)  # message_start only
    stream.close()
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.incomplete"] is True
    # What is known (input side from message_start) is recorded, and priced as known.
    assert attrs["gen_ai.usage.input_tokens"] == 3500


@pytest.mark.provider("anthropic")
async def test_async_messages(anthropic_sim, spans):
    client = anthropic.AsyncAnthropic(base_url=anthropic_sim.url, api_key="sk-ant-secret", max_retries=0)
    await client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-sim-usage": json.dumps(USAGE)},
    )
    _check(spans.one_call())
