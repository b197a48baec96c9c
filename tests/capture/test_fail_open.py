"""Fail-open: malformed bodies, errors and resets leave the app's bytes and exceptions untouched, and
the span says what happened. Each case is fetched twice through the same instrumented httpx2 client:
once with instrumentation suppressed (the reference bytes) and once captured."""

from __future__ import annotations

import gzip
import re

import httpx2
import openai
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]}


# The simulator numbers responses and stamps them with the time; everything else must be identical.
_VARYING = re.compile(rb'("id":\s*"[a-z-]*sim)\d+|("created":\s*)\d+')


def fetch(sim, fault: str, *, stream: bool = False) -> tuple[int, bytes]:
    body = {**CHAT, "stream": stream, "stream_options": {"include_usage": True}} if stream else CHAT
    with httpx2.Client(base_url=sim.url) as client:
        response = client.post("/v1/chat/completions", json=body, headers={"x-sim-fault": fault})
        return response.status_code, _VARYING.sub(rb"\1\2N", response.content)


@pytest.mark.parametrize(
    ("fault", "stream", "usage_status"),
    [
        ("truncated_json", False, "malformed JSON body"),
        ("wrong_types", False, "no usage in response"),
        ("empty", False, "empty body"),
        ("broken_sse", True, "no usage in response"),
    ],
)
def test_malformed_bodies_pass_through(sim, spans, fault, stream, usage_status):
    with suppress_instrumentation():
        expected = fetch(sim, fault, stream=stream)
    assert spans.provider_calls() == []
    got = fetch(sim, fault, stream=stream)
    assert got == expected
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == usage_status
    assert "llmobserve.cost.usd" not in attrs


def test_gzip_body_is_decoded_for_usage_only(sim, spans):
    with suppress_instrumentation():
        expected = fetch(sim, "gzip")
    got = fetch(sim, "gzip")
    assert got == expected  # httpx decoded it for the app exactly as without us
    assert b'"prompt_tokens":2' in got[1]
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 2
    assert attrs["llmobserve.cost.usd"] > 0


def test_gzip_bomb_stops_at_the_bound(sim, spans, monkeypatch):
    from llmobserve_otel.capture._body import BodyObserver
    from llmobserve_otel.providers import load

    openai_provider = load("openai")
    bomb = gzip.compress(b"{" + b" " * 50_000_000 + b"}")
    observer = BodyObserver(openai_provider, openai_provider.CHAT, stream=False, encoding="gzip", limit=1024)
    for i in range(0, len(bomb), 4096):
        observer.feed(bomb[i : i + 4096])
    assert observer.result() is None
    assert observer.problem is not None


@pytest.mark.parametrize("status", [400, 429, 500])
def test_error_status_passes_through_and_marks_span(sim, spans, status):
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(**CHAT, extra_headers={"x-sim-fault": f"status:{status}"})
    assert raised.value.status_code == status
    span = spans.provider_calls()[0]
    assert span.attributes["http.response.status_code"] == status
    assert span.attributes["error.type"] == str(status)
    assert span.status.status_code.name == "ERROR"
    assert "llmobserve.cost.usd" not in span.attributes


def test_connection_reset_raises_the_same_error(sim, spans):
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(**CHAT, extra_headers={"x-sim-fault": "reset"})
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert "error.type" in span.attributes
    assert span.end_time is not None


def test_reset_mid_stream_ends_span_incomplete(sim, spans):
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(
        **CHAT,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-sim-fault": "reset_mid_stream"},
    )
    with pytest.raises(openai.APIConnectionError):
        for _ in stream:
            pass
    span = spans.provider_calls()[0]
    assert span.attributes["llmobserve.usage.incomplete"] is True
    assert span.status.status_code.name == "ERROR"


def test_abandoned_response_is_ended_by_garbage_collection(sim, spans):
    import gc

    client = httpx2.Client(base_url=sim.url)
    response = client.send(
        client.build_request("POST", "/v1/chat/completions", json={**CHAT, "stream": True}), stream=True
    )
    assert response.status_code == 200
    assert spans.provider_calls() == []  # still open: the body was not read
    del response
    gc.collect()
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.incomplete"] is True
    client.close()


def test_a_pricing_failure_leaves_the_call_and_its_span(sim, spans, monkeypatch, caplog):
    """A bug in pricing (here: it raises) costs the call nothing and the span only its cost: the span
    still ends, with the usage it had and the failure named, and the error is logged."""
    from llmobserve_otel import pricing
    from llmobserve_otel._internal import guard

    def broken(*args, **kwargs):
        raise RuntimeError("pricing bug")

    monkeypatch.delenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", raising=False)
    monkeypatch.setattr(guard, "_reported", set())
    monkeypatch.setattr(pricing, "token_cost_usd", broken)
    monkeypatch.setattr(pricing, "cost_attributes", broken)
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
    with caplog.at_level("WARNING", logger="llmobserve_otel"):
        result = client.chat.completions.create(
            **CHAT, extra_headers={"x-sim-usage": '{"input_tokens": 12, "output_tokens": 3}'}
        )
    assert result.usage.prompt_tokens == 12
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "capture error: RuntimeError"
    assert attrs["gen_ai.usage.input_tokens"] == 12 and attrs["gen_ai.usage.output_tokens"] == 3
    assert "llmobserve.cost.usd" not in attrs
    assert any("capture.finish" in record.getMessage() for record in caplog.records)
