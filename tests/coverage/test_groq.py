"""Groq chat (JSON and SSE stream) through the real `groq` SDK against a local server answering the
documented shapes (https://console.groq.com/docs/api-reference#chat-create): a stream's last chunk
carries usage under `x_groq.usage`.

Prices from genai-prices (provider `groq`), per million tokens:
  llama-3.3-70b-versatile: $0.59 input, $0.79 output
  llama-3.1-8b-instant: $0.05 input, $0.08 output
Whisper from our data (https://console.groq.com/docs/speech-to-text): whisper-large-v3 $0.111 and
whisper-large-v3-turbo $0.04 per hour of audio, at least 10 seconds billed per request.
"""

from __future__ import annotations

import groq
import pytest
from llm_bodies import chat_body, chat_chunks
from wire import On, Reply, WireServer, map_host

M = 1_000_000
PATH = "/openai/v1/chat/completions"


def _client(server: WireServer) -> groq.Groq:
    map_host(server, "groq")
    return groq.Groq(api_key="gsk-test-secret", base_url=server.url, max_retries=0)


@pytest.mark.provider("groq")
def test_chat_completion(spans):
    body = {**chat_body("llama-3.3-70b-versatile", 1500, 400), "x_groq": {"id": "req_01"}}
    with WireServer([On("POST", PATH, lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.chat.completions.create(
            model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "Capital?"}]
        )
    assert result.usage.prompt_tokens == 1500
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "groq"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1500, 400)
    # 1500 input * $0.59 + 400 output * $0.79, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1500 * 0.59 + 400 * 0.79) / M, abs=1e-12)
    assert "gsk-test-secret" not in repr(attrs)


@pytest.mark.provider("groq")
def test_chat_stream_usage_under_x_groq(spans):
    usage = {"prompt_tokens": 900, "completion_tokens": 100, "total_tokens": 1000}
    events = [
        *chat_chunks("llama-3.1-8b-instant", None, x_groq={"id": "req_02", "usage": usage}),
        (None, "[DONE]"),
    ]
    with WireServer([On("POST", PATH, lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.completions.create(
            model="llama-3.1-8b-instant", messages=[{"role": "user", "content": "Capital?"}], stream=True
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == "Paris."
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (900, 100)
    assert attrs["gen_ai.response.finish_reasons"] == ("stop",)
    # 900 input * $0.05 + 100 output * $0.08, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((900 * 0.05 + 100 * 0.08) / M, abs=1e-12)


def _verbose(duration: float) -> dict:
    return {
        "task": "transcribe",
        "language": "English",
        "duration": duration,
        "text": "Hi.",
        "segments": [],
        "x_groq": {"id": "req_t"},
    }


@pytest.mark.provider("groq")
def test_whisper_short_audio_pays_the_ten_second_minimum(spans):
    route = On("POST", "/openai/v1/audio/transcriptions", lambda r: Reply.json(_verbose(4.2)))
    with WireServer([route]) as server:
        client = _client(server)
        client.audio.transcriptions.create(
            model="whisper-large-v3",
            file=("hi.wav", b"RIFF0000WAVE", "audio/wav"),
            response_format="verbose_json",
        )
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "whisper-large-v3"
    assert attrs["llmobserve.usage.seconds"] == 4.2
    assert attrs["llmobserve.usage.billed_seconds"] == 10
    # 10 billed seconds * $0.111 / 3600
    assert attrs["llmobserve.cost.usd"] == pytest.approx(10 * 0.111 / 3600, abs=1e-12)


@pytest.mark.provider("groq")
def test_whisper_turbo_priced_per_hour_of_audio(spans):
    route = On("POST", "/openai/v1/audio/transcriptions", lambda r: Reply.json(_verbose(95.0)))
    with WireServer([route]) as server:
        client = _client(server)
        client.audio.transcriptions.create(
            model="whisper-large-v3-turbo",
            file=("talk.mp3", b"ID3\x04", "audio/mpeg"),
            response_format="verbose_json",
        )
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.billed_seconds"] == 95.0
    # 95 s * $0.04 / 3600
    assert attrs["llmobserve.cost.usd"] == pytest.approx(95 * 0.04 / 3600, abs=1e-12)
