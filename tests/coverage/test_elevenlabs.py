"""ElevenLabs text-to-speech through the real `elevenlabs` SDK against a local server.

Price (https://elevenlabs.io/pricing/api, pay-as-you-go): Flash/Turbo $0.05 and Multilingual
$0.10 per 1,000 characters, i.e. $0.10 per 1,000 credits at 0.5 / 1 credit per character.
"""

from __future__ import annotations

import pytest
from elevenlabs.client import ElevenLabs
from wire import On, Reply, WireServer, map_host

AUDIO = b"ID3\x04fake-mp3-frames" * 64
PER_CREDIT = 0.10 / 1000


def _tts(cost_header: str | None = None, status: int = 200):
    def handler(request):
        if status != 200:
            return Reply.json({"detail": {"status": "quota_exceeded", "message": "quota"}}, status)
        headers = {"content-type": "audio/mpeg", "request-id": "req-1"}
        if cost_header is not None:
            headers["character-cost"] = cost_header
        return Reply(200, AUDIO, headers)

    return On("POST", r"/v1/text-to-speech/[^/]+(/stream)?", handler)


@pytest.mark.provider("elevenlabs")
def test_tts_credits_from_character_cost_header(spans):
    text = "Hello from the cost tracker, in a calm voice."  # 45 characters
    with WireServer([_tts(cost_header="23")]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        audio = b"".join(client.text_to_speech.convert("voice123", text=text, model_id="eleven_flash_v2_5"))
    assert audio == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "elevenlabs"
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["llmobserve.usage.characters"] == 45
    # The header (23 credits) wins over the request estimate (45 * 0.5 = 22.5).
    assert attrs["llmobserve.usage.credits"] == 23
    assert attrs["llmobserve.cost.usd"] == pytest.approx(23 * PER_CREDIT, abs=1e-12)  # $0.0023
    assert "xi-test-key" not in repr(attrs)


@pytest.mark.provider("elevenlabs")
def test_tts_stream_credits_from_request_text_without_header(spans):
    text = "Ünïcode counts as code points: 42 chars."
    assert len(text) == 40
    with WireServer([_tts()]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        audio = b"".join(client.text_to_speech.stream("voice123", text=text))  # default model
    assert audio == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.characters"] == 40
    assert attrs["llmobserve.usage.credits"] == 40  # eleven_multilingual_v2: 1 credit per character
    assert attrs["llmobserve.cost.usd"] == pytest.approx(40 * PER_CREDIT, abs=1e-12)  # $0.004


@pytest.mark.provider("elevenlabs")
def test_tts_error_is_not_billed_and_app_sees_the_error(spans):
    from elevenlabs.core.api_error import ApiError

    with WireServer([_tts(status=401)]) as server:
        map_host(server, "elevenlabs")
        client = ElevenLabs(api_key="xi-test-key", base_url=server.url)
        with pytest.raises(ApiError) as raised:
            b"".join(client.text_to_speech.convert("voice123", text="hi"))
    assert raised.value.status_code == 401
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 401
    assert "llmobserve.usage.characters" not in attrs
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"
