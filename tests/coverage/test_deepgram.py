"""Deepgram pre-recorded transcription through the real `deepgram-sdk` against a local server.

Price (https://deepgram.com/pricing, pay-as-you-go): Nova-3 pre-recorded $0.0077 per audio minute.
"""

from __future__ import annotations

import json

import pytest
from deepgram import DeepgramClient
from deepgram.environment import DeepgramClientEnvironment
from wire import On, Reply, WireServer, map_host

MODEL_UUID = "1abfe86b-e047-4eed-858a-35e5625b41ee"


def _listen_response(duration: float, channels: int = 1) -> dict:
    alternative = {"transcript": "hello world", "confidence": 0.99, "words": []}
    return {
        "metadata": {
            "transaction_key": "deprecated",
            "request_id": "a1b2c3d4-0000-4000-8000-000000000001",
            "sha256": "5324da68ede209a16ac69a38e8cd29cee4d754434a041166cda3a1f5e0b24566",
            "created": "2026-11-26T12:00:00.000Z",
            "duration": duration,
            "channels": channels,
            "models": [MODEL_UUID],
            "model_info": {
                MODEL_UUID: {"name": "general-nova-3", "version": "2025-04-17.21547", "arch": "nova-3"}
            },
        },
        "results": {"channels": [{"alternatives": [alternative]} for _ in range(channels)]},
    }


def _client(server: WireServer) -> DeepgramClient:
    environment = DeepgramClientEnvironment(
        base=server.url,
        production=server.url.replace("http", "ws"),
        agent="ws://unused",
        agent_rest=server.url,
    )
    return DeepgramClient(api_key="dg-test-key", environment=environment)


@pytest.mark.provider("deepgram")
def test_prerecorded_nova3_minutes(spans):
    routes = [On("POST", r"/v1/listen", lambda r: Reply.json(_listen_response(125.5)))]
    with WireServer(routes) as server:
        map_host(server, "deepgram")
        result = _client(server).listen.v1.media.transcribe_url(
            url="https://example.com/a.wav", model="nova-3"
        )
    assert result.metadata.duration == 125.5
    assert "model=nova-3" in server.requests[0].path
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "deepgram"
    assert attrs["llmobserve.operation"] == "transcription"
    assert attrs["gen_ai.response.model"] == "nova-3"
    assert attrs["llmobserve.usage.seconds"] == 125.5
    # 125.5 s = 2.091667 min at $0.0077/min
    assert attrs["llmobserve.cost.usd"] == pytest.approx(125.5 / 60 * 0.0077, abs=1e-12)  # $0.016105
    assert "dg-test-key" not in repr(attrs)


@pytest.mark.provider("deepgram")
def test_multichannel_is_billed_per_channel(spans):
    routes = [On("POST", r"/v1/listen", lambda r: Reply.json(_listen_response(60.0, channels=2)))]
    with WireServer(routes) as server:
        map_host(server, "deepgram")
        _client(server).listen.v1.media.transcribe_file(
            request=b"RIFF....WAVEfmt ", model="nova-3", multichannel=True
        )
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.seconds"] == 120.0
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2 * 0.0077, abs=1e-12)


@pytest.mark.provider("deepgram")
def test_malformed_response_app_unaffected(spans):
    routes = [
        On(
            "POST",
            r"/v1/listen",
            lambda r: Reply(200, b'{"metadata": [1, 2', {"content-type": "application/json"}),
        )
    ]
    with WireServer(routes) as server:
        map_host(server, "deepgram")
        with pytest.raises(Exception) as raised:  # the SDK's own JSON error, unchanged by the capture
            _client(server).listen.v1.media.transcribe_url(url="https://example.com/a.wav", model="nova-3")
    assert "llmobserve" not in type(raised.value).__module__
    attrs = spans.one_call()
    assert "llmobserve.usage.seconds" not in attrs and "llmobserve.cost.usd" not in attrs
    assert attrs["llmobserve.usage.status"]


class LiveServer:
    """A `websockets` server speaking Deepgram live transcription: Results per audio chunk, Metadata at CloseStream."""

    def __init__(self, duration: float) -> None:
        from websockets.sync.server import serve

        self.duration = duration
        self.paths: list[str] = []
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]

    def _handle(self, ws) -> None:
        self.paths.append(ws.request.path)
        model_info = {"name": "general-nova-3", "version": "2025-04-17.21547", "arch": "nova-3"}
        start = 0.0
        for message in ws:
            if isinstance(message, bytes):
                results = {
                    "type": "Results",
                    "channel_index": [0, 1],
                    "duration": 1.0,
                    "start": start,
                    "is_final": True,
                    "speech_final": True,
                    "channel": {"alternatives": [{"transcript": "hello", "confidence": 0.99, "words": []}]},
                    "metadata": {
                        "request_id": "live-req-1",
                        "model_info": model_info,
                        "model_uuid": MODEL_UUID,
                    },
                    "from_finalize": False,
                }
                start += 1.0
                ws.send(json.dumps(results))
            elif json.loads(message).get("type") == "CloseStream":
                ws.send(
                    json.dumps(
                        {
                            "type": "Metadata",
                            "transaction_key": "deprecated",
                            "request_id": "live-req-1",
                            "sha256": "0" * 64,
                            "created": "2026-11-26T12:00:00.000Z",
                            "duration": self.duration,
                            "channels": 1,
                            "models": [MODEL_UUID],
                            "model_info": {MODEL_UUID: model_info},
                        }
                    )
                )
                ws.close()
                return

    def __enter__(self) -> LiveServer:
        import threading

        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()


@pytest.mark.provider("deepgram")
def test_live_transcription_over_websocket_billed_from_metadata(spans):
    with LiveServer(duration=93.0) as server:
        map_host(f"127.0.0.1:{server.port}", "deepgram")
        environment = DeepgramClientEnvironment(
            base=f"http://127.0.0.1:{server.port}",
            production=f"ws://127.0.0.1:{server.port}",
            agent="ws://unused",
            agent_rest="http://unused",
        )
        client = DeepgramClient(api_key="dg-test-key", environment=environment)
        received = []
        with client.listen.v1.connect(model="nova-3") as socket:
            for _ in range(3):
                socket.send_media(b"\x00\x01" * 800)
            socket.send_close_stream()
            for message in socket:
                received.append(message.type)
    assert received == ["Results", "Results", "Results", "Metadata"]
    assert server.paths[0].startswith("/v1/listen?") and "model=nova-3" in server.paths[0]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "deepgram"
    assert attrs["llmobserve.operation"] == "live_transcription"
    assert attrs["gen_ai.request.model"] == "nova-3"
    assert attrs["gen_ai.response.id"] == "live-req-1"
    assert attrs["llmobserve.usage.seconds"] == 93.0
    assert "gen_ai.provider.name" not in attrs  # not an LLM span
    # 93 s = 1.55 min at Nova-3 streaming $0.0048/min
    assert attrs["llmobserve.cost.usd"] == pytest.approx(93.0 / 60 * 0.0048, abs=1e-12)  # $0.00744
    assert attrs["url.full"] == f"ws://127.0.0.1:{server.port}/v1/listen"
