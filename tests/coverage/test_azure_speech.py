"""Azure AI Speech REST over raw HTTP (httpx): the Speech SDK is native code Python hooks cannot see.

Prices (https://azure.microsoft.com/pricing/details/cognitive-services/speech-services/, pay-as-you-go):
neural TTS $15 per 1M characters, HD voices $30 per 1M; real-time STT $1 per audio hour.
"""

from __future__ import annotations

import httpx
import pytest
from wire import On, Reply, WireServer, map_host

from llmobserve_otel.providers.azure_speech import billable_characters

AUDIO = b"RIFF$\x00\x00\x00WAVEfmt " + b"\x00" * 64
KEY_HEADER = {"Ocp-Apim-Subscription-Key": "azure-speech-secret"}


def _ssml(voice: str, text: str) -> str:
    return (
        '<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">'
        f'<voice name="{voice}">{text}</voice></speak>'
    )


def test_billable_character_rule():
    # Markup inside <voice> counts; <speak>/<voice> tags do not; a Chinese character counts two.
    assert billable_characters(_ssml("en-US-AvaNeural", "Hello, world.")) == 13
    assert billable_characters(_ssml("en-US-AvaNeural", '<break time="1s"/>Hi')) == 20
    assert billable_characters(_ssml("zh-CN-XiaoxiaoNeural", "你好, ok")) == 2 * 2 + 4


@pytest.mark.provider("azure_speech")
def test_tts_neural_characters(spans):
    text = "Your order has shipped and will arrive on Tuesday."  # 50 characters
    routes = [
        On("POST", r"/cognitiveservices/v1", lambda r: Reply(200, AUDIO, {"content-type": "audio/x-wav"}))
    ]
    with WireServer(routes) as server:
        map_host(server, "azure_speech")
        response = httpx.post(
            f"{server.url}/cognitiveservices/v1",
            headers={
                **KEY_HEADER,
                "content-type": "application/ssml+xml",
                "X-Microsoft-OutputFormat": "riff-24khz-16bit-mono-pcm",
            },
            content=_ssml("en-US-AvaMultilingualNeural", text).encode(),
        )
    assert response.content == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "azure_speech"
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["gen_ai.request.model"] == "en-US-AvaMultilingualNeural"
    assert attrs["llmobserve.usage.characters"] == 50
    assert attrs["llmobserve.cost.usd"] == pytest.approx(50 * 15 / 1_000_000, abs=1e-12)  # $0.00075
    assert "azure-speech-secret" not in repr(attrs)


@pytest.mark.provider("azure_speech")
def test_tts_hd_voice_rate(spans):
    routes = [
        On("POST", r"/cognitiveservices/v1", lambda r: Reply(200, AUDIO, {"content-type": "audio/mpeg"}))
    ]
    with WireServer(routes) as server:
        map_host(server, "azure_speech")
        httpx.post(
            f"{server.url}/cognitiveservices/v1",
            headers={**KEY_HEADER, "content-type": "application/ssml+xml"},
            content=_ssml("en-US-Ava:DragonHDLatestNeural", "你好").encode(),
        )
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.characters"] == 4
    assert attrs["llmobserve.cost.usd"] == pytest.approx(4 * 30 / 1_000_000, abs=1e-12)


@pytest.mark.provider("azure_speech")
def test_stt_short_audio_duration_ticks(spans):
    answer = {
        "RecognitionStatus": "Success",
        "DisplayText": "Hello world.",
        "Offset": 300000,
        "Duration": 452_500_000,
    }
    routes = [
        On("POST", r"/speech/recognition/conversation/cognitiveservices/v1", lambda r: Reply.json(answer))
    ]
    with WireServer(routes) as server:
        map_host(server, "azure_speech")
        response = httpx.post(
            f"{server.url}/speech/recognition/conversation/cognitiveservices/v1?language=en-US&format=simple",
            headers={**KEY_HEADER, "content-type": "audio/wav; codecs=audio/pcm; samplerate=16000"},
            content=AUDIO,
        )
    assert response.json()["DisplayText"] == "Hello world."
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "transcription"
    assert attrs["llmobserve.usage.seconds"] == 45.25  # 452,500,000 ticks of 100 ns
    assert attrs["llmobserve.cost.usd"] == pytest.approx(45.25 / 3600 * 1.0, abs=1e-12)
    assert "language=en-US" not in attrs["url.full"]


@pytest.mark.provider("azure_speech")
def test_tts_unauthorized_not_billed(spans):
    routes = [On("POST", r"/cognitiveservices/v1", lambda r: Reply(401, b"", {}))]
    with WireServer(routes) as server:
        map_host(server, "azure_speech")
        response = httpx.post(
            f"{server.url}/cognitiveservices/v1",
            headers={**KEY_HEADER, "content-type": "application/ssml+xml"},
            content=_ssml("en-US-AvaNeural", "hi").encode(),
        )
    assert response.status_code == 401
    attrs = spans.one_call()
    assert "llmobserve.usage.characters" not in attrs and "llmobserve.cost.usd" not in attrs
