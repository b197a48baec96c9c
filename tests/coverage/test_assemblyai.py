"""AssemblyAI pre-recorded transcription through the real `assemblyai` SDK (submit, then poll).

Price (https://www.assemblyai.com/pricing): Universal-2 $0.15 per audio hour, Universal-3.5 Pro
$0.21 per hour, pro-rated to the second; billed only for the completed transcript.
"""

from __future__ import annotations

import itertools

import assemblyai as aai
import pytest
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

_ids = itertools.count(1)


def _transcript(transcript_id: str, status: str, **fields) -> dict:
    body = {
        "id": transcript_id,
        "status": status,
        "audio_url": "https://example.com/call.mp3",
        "language_code": "en_us",
        "speech_model": "universal",
        "text": None,
        "words": None,
        "audio_duration": None,
        "error": None,
    }
    body.update(fields)
    return body


def _server(polls_before_done: int, duration: int = 1234, model: str = "universal") -> WireServer:
    transcript_id = f"tx-{next(_ids)}"
    seen = {"polls": 0}

    def submit(request):
        return Reply.json(_transcript(transcript_id, "queued"))

    def poll(request):
        seen["polls"] += 1
        if seen["polls"] <= polls_before_done:
            return Reply.json(_transcript(transcript_id, "processing"))
        return Reply.json(
            _transcript(
                transcript_id,
                "completed",
                text="hello world",
                words=[{"text": "hello", "start": 0, "end": 400, "confidence": 0.98}],
                audio_duration=duration,
                confidence=0.98,
                speech_model_used=model,
            )
        )

    return WireServer(
        [On("POST", r"/v2/transcript", submit), On("GET", rf"/v2/transcript/{transcript_id}", poll)]
    )


@pytest.fixture
def sdk_settings():
    saved = (aai.settings.api_key, aai.settings.base_url, aai.settings.polling_interval)
    aai.settings.api_key = "aai-test-key"
    aai.settings.polling_interval = 0.01
    yield aai.settings
    aai.settings.api_key, aai.settings.base_url, aai.settings.polling_interval = saved


@pytest.mark.provider("assemblyai")
def test_transcribe_bills_the_completed_transcript_once(spans, sdk_settings):
    with _server(polls_before_done=2, duration=1234) as server:
        map_host(server, "assemblyai")
        sdk_settings.base_url = server.url
        transcript = aai.Transcriber().transcribe("https://example.com/call.mp3")
        assert transcript.status == aai.TranscriptStatus.completed
        again = aai.Transcript.get_by_id(transcript.id)  # a re-read is not billed again
    assert transcript.text == "hello world" and again.audio_duration == 1234
    calls = [dict(s.attributes) for s in spans.provider_calls()]
    # submit, 2 processing polls, the completed poll, the re-read
    assert [c["http.request.method"] for c in calls] == ["POST", "GET", "GET", "GET", "GET"]
    attrs = calls[3]
    assert [c for c in calls if "llmobserve.cost.usd" in c] == [attrs]
    assert attrs["llmobserve.provider"] == "assemblyai"
    assert attrs["llmobserve.operation"] == "transcription"
    assert attrs["llmobserve.usage.seconds"] == 1234
    assert attrs["gen_ai.response.id"] == transcript.id
    # 1234 s at Universal-2 $0.15/hour
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1234 * 0.15 / 3600, abs=1e-12)  # $0.051417
    for poll in calls[:3] + calls[4:]:
        assert "llmobserve.usage.seconds" not in poll
        assert poll["llmobserve.cost.status"] == "no_usage"
    assert "aai-test-key" not in repr(calls)


@pytest.mark.provider("assemblyai")
def test_universal_3_pro_rate(spans, sdk_settings):
    with _server(polls_before_done=0, duration=600, model="universal-3-pro") as server:
        map_host(server, "assemblyai")
        sdk_settings.base_url = server.url
        aai.Transcriber().transcribe("https://example.com/call.mp3")
    billed = [dict(s.attributes) for s in spans.provider_calls() if "llmobserve.cost.usd" in s.attributes]
    assert len(billed) == 1
    assert billed[0]["llmobserve.usage.seconds"] == 600
    assert billed[0]["llmobserve.cost.usd"] == pytest.approx(600 * 0.21 / 3600, abs=1e-12)  # $0.035


@pytest.mark.provider("assemblyai")
def test_error_transcript_is_not_billed(spans, sdk_settings):
    tid = f"tx-{next(_ids)}"
    routes = [
        On("POST", r"/v2/transcript", lambda r: Reply.json(_transcript(tid, "queued"))),
        On(
            "GET",
            rf"/v2/transcript/{tid}",
            lambda r: Reply.json(_transcript(tid, "error", error="bad audio")),
        ),
    ]
    with WireServer(routes) as server:
        map_host(server, "assemblyai")
        sdk_settings.base_url = server.url
        transcript = aai.Transcriber().transcribe("https://example.com/call.mp3")
    assert transcript.status == aai.TranscriptStatus.error and transcript.error == "bad audio"
    calls = [dict(s.attributes) for s in spans.provider_calls()]
    assert len(calls) == 2
    assert all("llmobserve.cost.usd" not in c and "llmobserve.usage.seconds" not in c for c in calls)


class StreamingServer:
    """A `websockets` server speaking AssemblyAI streaming v3: Begin, a Turn per audio chunk, Termination."""

    def __init__(self, session_seconds: int, audio_seconds: int) -> None:
        from websockets.sync.server import serve

        self.session_seconds, self.audio_seconds = session_seconds, audio_seconds
        self.paths: list[str] = []
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]

    def _handle(self, ws) -> None:
        import json

        self.paths.append(ws.request.path)
        ws.send(json.dumps({"type": "Begin", "id": "stream-session-1", "expires_at": 1764158400}))
        turn = 0
        for message in ws:
            if isinstance(message, bytes):
                turn += 1
                ws.send(
                    json.dumps(
                        {
                            "type": "Turn",
                            "turn_order": turn,
                            "turn_is_formatted": True,
                            "end_of_turn": True,
                            "transcript": "hello",
                            "end_of_turn_confidence": 0.9,
                            "words": [],
                        }
                    )
                )
            elif json.loads(message).get("type") == "Terminate":
                ws.send(
                    json.dumps(
                        {
                            "type": "Termination",
                            "audio_duration_seconds": self.audio_seconds,
                            "session_duration_seconds": self.session_seconds,
                        }
                    )
                )
                ws.close()
                return

    def __enter__(self):
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()


@pytest.mark.provider("assemblyai")
def test_streaming_session_billed_on_session_duration(spans):
    from assemblyai.streaming.v3 import (
        StreamingClient,
        StreamingClientOptions,
        StreamingEvents,
        StreamingParameters,
    )

    turns, terminations = [], []
    with StreamingServer(session_seconds=300, audio_seconds=240) as server:
        map_host(f"127.0.0.1:{server.port}", "assemblyai")
        client = StreamingClient(
            StreamingClientOptions(api_key="aai-test-key", api_host=f"ws://127.0.0.1:{server.port}")
        )
        client.on(StreamingEvents.Turn, lambda _client, event: turns.append(event.transcript))
        client.on(
            StreamingEvents.Termination,
            lambda _client, event: terminations.append(event.session_duration_seconds),
        )
        with lo.customer("acme"), lo.section("agent:listener"):  # the SDK reads on its own thread
            client.connect(StreamingParameters(sample_rate=16000, speech_model="u3-rt-pro"))
            client.stream(b"\x00\x01" * 1600)
            client.stream(b"\x00\x01" * 1600)
            client.disconnect(terminate=True)
    assert terminations == [300] and turns == ["hello", "hello"]
    assert "speech_model=u3-rt-pro" in server.paths[0]
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "live_transcription"
    assert attrs["gen_ai.request.model"] == "u3-rt-pro"
    assert attrs["gen_ai.response.id"] == "stream-session-1"
    assert attrs["llmobserve.usage.seconds"] == 300  # the session, idle time included, is what is billed
    assert attrs["llmobserve.usage.audio_seconds"] == 240
    # 300 s of session at Universal-3.6 Pro Realtime $0.45/hour
    assert attrs["llmobserve.cost.usd"] == pytest.approx(300 * 0.45 / 3600, abs=1e-12)  # $0.0375
    assert attrs["llmobserve.customer.id"] == "acme"  # from the context the connection was opened in
    assert attrs["llmobserve.section.path"] == "agent:listener"
    assert "aai-test-key" not in repr(attrs)
