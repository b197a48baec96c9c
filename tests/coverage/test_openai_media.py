"""OpenAI's non-token operations through the real `openai` SDK against a local server answering the
documented shapes (https://platform.openai.com/docs/api-reference/images, /audio).

Prices:
- DALL·E per image by size and quality (https://openai.com/api/pricing/, our data): dall-e-3 HD
  1024x1792 $0.120, standard 1024x1024 $0.040; dall-e-2 512x512 $0.018.
- gpt-image-2 in tokens (genai-prices): $5.00 / 1M text input, $30.00 / 1M output (image) tokens.
- whisper-1 speech-to-text $0.006 per minute of audio (our data; genai-prices: $0.36/hour).
- gpt-4o-transcribe in tokens (genai-prices): $2.50 / 1M text input, $6.00 / 1M audio input, $10.00 / 1M output.
- tts-1 $15.00 / 1M characters of `input` (our data; genai-prices carries the same).
- gpt-4o-mini-tts in tokens (genai-prices): $0.60 / 1M input, $12.00 / 1M output.
"""

from __future__ import annotations

import json

import openai
import pytest
from wire import On, Reply, WireServer, map_host

M = 1_000_000
AUDIO = b"ID3\x04fake-mp3-frames" * 32


def _client(server: WireServer) -> openai.OpenAI:
    map_host(server, "openai")
    return openai.OpenAI(api_key="sk-test-secret", base_url=server.url + "/v1", max_retries=0)


def _images(count: int, usage: dict | None = None) -> dict:
    body: dict = {
        "created": 1_764_000_000,
        "data": [
            {"url": f"https://oaidalleapiprodscus.blob.core.windows.net/img-{i}.png"} for i in range(count)
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


@pytest.mark.provider("openai")
def test_dall_e_3_hd_tall_image_priced_per_image(spans):
    with WireServer([On("POST", "/v1/images/generations", lambda r: Reply.json(_images(1)))]) as server:
        client = _client(server)
        result = client.images.generate(
            model="dall-e-3", prompt="a lighthouse", size="1024x1792", quality="hd"
        )
    assert len(result.data) == 1
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "image_generation"
    assert attrs["gen_ai.request.model"] == "dall-e-3"
    assert attrs["llmobserve.usage.images"] == 1
    assert attrs["llmobserve.usage.images_hd_1024x1792"] == 1
    # 1 image * $0.120 (HD, 1024x1792)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.120, abs=1e-12)


@pytest.mark.provider("openai")
def test_dall_e_defaults_and_count(spans):
    with WireServer([On("POST", "/v1/images/generations", lambda r: Reply.json(_images(3)))]) as server:
        client = _client(server)
        client.images.generate(model="dall-e-3", prompt="a lighthouse", n=3)  # 1024x1024 standard
        client.images.generate(model="dall-e-2", prompt="a lighthouse", size="512x512", n=3)
    first, second = (dict(s.attributes or {}) for s in spans.provider_calls())
    # 3 images * $0.040 (standard, 1024x1024)
    assert first["llmobserve.usage.images_standard_1024x1024"] == 3
    assert first["llmobserve.cost.usd"] == pytest.approx(3 * 0.040, abs=1e-12)
    # 3 images * $0.018 (dall-e-2, 512x512)
    assert second["gen_ai.request.model"] == "dall-e-2"
    assert second["llmobserve.cost.usd"] == pytest.approx(3 * 0.018, abs=1e-12)


@pytest.mark.provider("openai")
def test_gpt_image_2_priced_in_tokens(spans):
    usage = {
        "total_tokens": 4210,
        "input_tokens": 50,
        "output_tokens": 4160,
        "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
    }
    body = {**_images(1, usage), "quality": "high", "size": "1024x1024", "output_format": "png"}
    with WireServer([On("POST", "/v1/images/generations", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.images.generate(model="gpt-image-2", prompt="a lighthouse", quality="high")
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (50, 4160)
    assert attrs["llmobserve.usage.images"] == 1
    assert "llmobserve.usage.images_standard_1024x1024" not in attrs  # not billed per image
    # 50 text input * $5.00 + 4160 output * $30.00, per million
    expected = (50 * 5.00 + 4160 * 30.00) / M
    assert expected == pytest.approx(0.12505)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.provider("openai")
def test_whisper_transcription_priced_per_minute_from_usage_seconds(spans):
    body = {"text": "Hello there.", "usage": {"type": "duration", "seconds": 95}}
    with WireServer([On("POST", "/v1/audio/transcriptions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.audio.transcriptions.create(model="whisper-1", file=("talk.mp3", AUDIO, "audio/mpeg"))
        sent = server.requests[-1].body
        assert b'name="model"\r\n\r\nwhisper-1' in sent and AUDIO in sent  # the app's upload, whole
    assert result.text == "Hello there."
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "transcription"
    assert attrs["gen_ai.request.model"] == "whisper-1"  # read from the multipart request
    assert attrs["llmobserve.usage.seconds"] == 95
    # 95 s = 1.5833 min * $0.006
    assert attrs["llmobserve.cost.usd"] == pytest.approx(95 / 60 * 0.006, abs=1e-12)
    assert "sk-test-secret" not in json.dumps(dict(attrs))


@pytest.mark.provider("openai")
def test_whisper_verbose_json_duration(spans):
    body = {"task": "transcribe", "language": "english", "duration": 8.47, "text": "Hi.", "segments": []}
    with WireServer([On("POST", "/v1/audio/transcriptions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.audio.transcriptions.create(
            model="whisper-1", file=("talk.mp3", AUDIO, "audio/mpeg"), response_format="verbose_json"
        )
    assert result.duration == 8.47
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.seconds"] == 8.47
    # 8.47 s * $0.006 / 60
    assert attrs["llmobserve.cost.usd"] == pytest.approx(8.47 * 0.006 / 60, abs=1e-12)


@pytest.mark.provider("openai")
def test_tts_1_priced_per_character_of_input(spans):
    text = "The quick brown fox jumps over the lazy dog. Ünïcödé counts by character."
    assert len(text) == 73
    reply = On("POST", "/v1/audio/speech", lambda r: Reply(200, AUDIO, {"content-type": "audio/mpeg"}))
    with WireServer([reply]) as server:
        client = _client(server)
        audio = client.audio.speech.create(model="tts-1", voice="alloy", input=text)
    assert audio.content == AUDIO  # the app's bytes, untouched
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["llmobserve.usage.characters"] == 73
    assert "llmobserve.usage.status" not in attrs
    # 73 characters * $15.00 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx(73 * 15.00 / M, abs=1e-12)


@pytest.mark.provider("openai")
def test_gpt_4o_mini_tts_sse_stream_priced_in_tokens(spans):
    events = [
        (None, {"type": "speech.audio.delta", "audio": "SUQzBAAAAAAA"}),
        (None, {"type": "speech.audio.delta", "audio": "AAAAAAAAAAAA"}),
        (
            None,
            {
                "type": "speech.audio.done",
                "usage": {"input_tokens": 14, "output_tokens": 1010, "total_tokens": 1024},
            },
        ),
    ]
    with WireServer([On("POST", "/v1/audio/speech", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts", voice="alloy", input="Hello there.", stream_format="sse"
        ) as response:
            raw = b"".join(response.iter_bytes())
    assert raw.count(b"speech.audio.delta") == 2
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.characters"] == 12
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (14, 1010)
    # 14 input * $0.60 + 1010 output * $12.00, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((14 * 0.60 + 1010 * 12.00) / M, abs=1e-12)


@pytest.mark.provider("openai")
def test_gpt_4o_transcribe_priced_in_tokens_with_audio_input(spans):
    usage = {
        "type": "tokens",
        "input_tokens": 1000,
        "input_token_details": {"text_tokens": 200, "audio_tokens": 800},
        "output_tokens": 300,
        "total_tokens": 1300,
    }
    body = {"text": "Hello there.", "usage": usage}
    with WireServer([On("POST", "/v1/audio/transcriptions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.audio.transcriptions.create(model="gpt-4o-transcribe", file=("talk.mp3", AUDIO, "audio/mpeg"))
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "gpt-4o-transcribe"  # read from the multipart request
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["llmobserve.usage.input_audio_tokens"] == 800
    # 200 text input * $2.50 + 800 audio input * $6.00 + 300 output * $10.00, per million
    expected = (200 * 2.50 + 800 * 6.00 + 300 * 10.00) / M
    assert expected == pytest.approx(0.0083)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.provider("openai")
def test_gpt_image_stream_priced_from_the_completed_event(spans):
    usage = {
        "total_tokens": 1100,
        "input_tokens": 40,
        "output_tokens": 1060,
        "input_tokens_details": {"text_tokens": 40, "image_tokens": 0},
    }
    events = [
        (
            "image_generation.partial_image",
            {
                "type": "image_generation.partial_image",
                "b64_json": "iVBORw0K",
                "partial_image_index": 0,
                "created_at": 1,
                "size": "1024x1024",
                "quality": "low",
                "background": "opaque",
                "output_format": "png",
            },
        ),
        (
            "image_generation.completed",
            {
                "type": "image_generation.completed",
                "b64_json": "iVBORw0KGgo",
                "created_at": 2,
                "size": "1024x1024",
                "quality": "low",
                "background": "opaque",
                "output_format": "png",
                "usage": usage,
            },
        ),
    ]
    with WireServer([On("POST", "/v1/images/generations", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        kinds = [
            e.type
            for e in client.images.generate(
                model="gpt-image-2", prompt="a lighthouse", stream=True, partial_images=1
            )
        ]
    assert kinds == ["image_generation.partial_image", "image_generation.completed"]
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.images"] == 1
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (40, 1060)
    # 40 text input * $5.00 + 1060 output * $30.00, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((40 * 5.00 + 1060 * 30.00) / M, abs=1e-12)


@pytest.mark.provider("openai")
def test_gpt_4o_transcribe_stream_priced_from_text_done(spans):
    usage = {
        "type": "tokens",
        "input_tokens": 500,
        "input_token_details": {"text_tokens": 0, "audio_tokens": 500},
        "output_tokens": 40,
        "total_tokens": 540,
    }
    events = [
        (None, {"type": "transcript.text.delta", "delta": "Hello"}),
        (None, {"type": "transcript.text.delta", "delta": " there."}),
        (None, {"type": "transcript.text.done", "text": "Hello there.", "usage": usage}),
    ]
    with WireServer([On("POST", "/v1/audio/transcriptions", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("talk.mp3", AUDIO, "audio/mpeg"), stream=True
        )
        text = "".join(e.delta for e in stream if e.type == "transcript.text.delta")
    assert text == "Hello there."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "gpt-4o-transcribe"
    # 500 audio input * $6.00 + 40 output * $10.00, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((500 * 6.00 + 40 * 10.00) / M, abs=1e-12)
