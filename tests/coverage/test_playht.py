"""Play.ht TTS over raw HTTP (httpx): the pyht SDK streams over gRPC for some engines and is heavy.

Play.ht publishes no pay-as-you-go per-character API rate we could cite (API usage is sold in
subscription plans), so no built-in price ships: the characters are exact, and a team prices them
with its plan's effective rate in LLMOBSERVE_PRICING_FILE, exercised here with an example rate.
"""

from __future__ import annotations

import httpx
import pytest
from wire import On, Reply, WireServer, map_host

AUDIO = b"ID3\x04" + b"\xff\xfb" * 200
HEADERS = {"X-USER-ID": "user-1", "AUTHORIZATION": "playht-secret", "accept": "audio/mpeg"}


def _stream(request):
    return Reply(200, b"", {"content-type": "audio/mpeg"}, chunks=[AUDIO[:100], AUDIO[100:]])


@pytest.fixture
def plan_rate(user_prices):
    """A team's own Play.ht rate: $0.05 per 1,000 characters (an example figure, not Play.ht's)."""
    user_prices(
        '[[prices]]\nprovider = "playht"\noperation = "tts"\nsource = "our Play.ht plan"\n'
        'per = 1000\nrates = { characters = "0.05" }\n'
    )


@pytest.mark.provider("playht")
def test_v2_stream_characters(spans, plan_rate):
    text = "Welcome back! Your meeting starts in five minutes."  # 50 characters
    with WireServer([On("POST", r"/api/v2/tts/stream", _stream)]) as server:
        map_host(server, "playht")
        with httpx.stream(
            "POST",
            f"{server.url}/api/v2/tts/stream",
            headers=HEADERS,
            json={
                "text": text,
                "voice": "s3://voice-cloning-zero-shot/abc/manifest.json",
                "voice_engine": "Play3.0-mini",
            },
        ) as response:
            audio = b"".join(response.iter_bytes())
    assert audio == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "playht"
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["gen_ai.request.model"] == "Play3.0-mini"
    assert attrs["llmobserve.usage.characters"] == 50
    assert attrs["llmobserve.cost.usd"] == pytest.approx(50 * 0.05 / 1000, abs=1e-12)
    assert "playht-secret" not in repr(attrs)


@pytest.mark.provider("playht")
def test_playai_v1_without_a_price_is_recorded_unpriced(spans):
    with WireServer([On("POST", r"/api/v1/tts/stream", _stream)]) as server:
        map_host(server, "playht")
        response = httpx.post(
            f"{server.url}/api/v1/tts/stream",
            headers={"Authorization": "Bearer playht-secret", "X-USER-ID": "user-1"},
            json={"model": "PlayDialog", "text": "Hi there", "voice": "s3://v/manifest.json"},
        )
    assert response.content == AUDIO
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.characters"] == 8
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("playht")
def test_error_not_billed(spans):
    routes = [On("POST", r"/api/v2/tts/stream", lambda r: Reply.json({"error_message": "Unauthorized"}, 403))]
    with WireServer(routes) as server:
        map_host(server, "playht")
        response = httpx.post(f"{server.url}/api/v2/tts/stream", headers=HEADERS, json={"text": "hello"})
    assert response.status_code == 403
    attrs = spans.one_call()
    assert "llmobserve.usage.characters" not in attrs and "llmobserve.cost.usd" not in attrs
