"""OpenAI Realtime over WebSocket: the real `openai` SDK realtime client (`client.realtime.connect`,
sync, pointed at a local `websockets` server through `websocket_base_url`) and a raw asyncio
`websockets` client, against a server speaking the documented Realtime server events.

Prices (https://openai.com/api/pricing, the figures genai-prices carries for `gpt-realtime`), per
million tokens: text input $4.00, cached input $0.40, text output $16.00; audio input $32.00,
cached audio input $0.40, audio output $64.00.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pytest
import websockets
from websockets.sync.server import serve
from wire import map_host

import llmobserve_otel as lo

M = 1_000_000
AUDIO_DELTA = base64.b64encode(b"\x00\x01" * 4000).decode()


def _usage(text_in, audio_in, cached_text, cached_audio, text_out, audio_out) -> dict:
    return {
        "total_tokens": text_in + audio_in + text_out + audio_out,
        "input_tokens": text_in + audio_in,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": cached_text + cached_audio,
            "cached_tokens_details": {
                "text_tokens": cached_text,
                "audio_tokens": cached_audio,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


USAGES = [_usage(600, 400, 200, 0, 200, 300), _usage(800, 1200, 400, 600, 100, 0)]


def _response(response_id: str, status: str, usage: dict | None) -> dict:
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": None,
        "output": [],
        "conversation_id": "conv_1",
        "output_modalities": ["audio"],
        "max_output_tokens": "inf",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "usage": usage,
        "metadata": None,
    }


class RealtimeServer:
    """A `websockets` server speaking the Realtime server events; `script` decides each response."""

    def __init__(
        self,
        usages: list[dict | None],
        *,
        drop_mid_response: bool = False,
        junk: bool = False,
        transcription: tuple[str, dict] | None = None,
    ) -> None:
        self.usages = list(usages)
        self.transcription = transcription
        """(transcription model, usage of the one input transcription sent before each response)."""
        self.drop_mid_response = drop_mid_response
        self.junk = junk
        self.paths: list[str] = []
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handle(self, ws) -> None:
        self.paths.append(ws.request.path)
        event_ids = iter(range(1, 10_000))

        def send(event: dict) -> None:
            ws.send(json.dumps({"type": event.pop("type"), "event_id": f"evt_{next(event_ids)}", **event}))

        session = {
            "object": "realtime.session",
            "type": "realtime",
            "id": "sess_ABC",
            "model": "gpt-realtime",
        }
        if self.transcription is not None:
            session["audio"] = {"input": {"transcription": {"model": self.transcription[0]}}}
        send({"type": "session.created", "session": session})
        count = 0
        for raw in ws:
            if json.loads(raw).get("type") != "response.create":
                continue
            count += 1
            rid = f"resp_{count}"
            if self.transcription is not None:
                send(
                    {
                        "type": "conversation.item.input_audio_transcription.completed",
                        "item_id": f"item_in_{count}",
                        "content_index": 0,
                        "transcript": "What's the weather?",
                        "logprobs": None,
                        "usage": self.transcription[1],
                    }
                )
            send({"type": "response.created", "response": _response(rid, "in_progress", None)})
            if self.junk:
                ws.send(b"\x00\x01binary-audio-frame")
                ws.send('{"type": "response.done", "response": {"id": ')  # truncated JSON
            for _ in range(3):
                send(
                    {
                        "type": "response.output_audio.delta",
                        "response_id": rid,
                        "item_id": "item_1",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": AUDIO_DELTA,
                    }
                )
            if self.drop_mid_response:
                ws.close(code=1011, reason="server error")
                return
            usage = self.usages.pop(0)
            send({"type": "response.done", "response": _response(rid, "completed", usage)})

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> RealtimeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()


@contextmanager
def _server(*args, **kwargs) -> Iterator[RealtimeServer]:
    with RealtimeServer(*args, **kwargs) as server:
        map_host(server.host_port, "openai")
        yield server


def _sdk_session(server: RealtimeServer, responses: int) -> list:
    client = openai.OpenAI(api_key="sk-realtime-secret", websocket_base_url=f"ws://{server.host_port}/v1")
    done = []
    with client.realtime.connect(model="gpt-realtime") as connection:
        for _ in range(responses):
            connection.response.create()
            for event in connection:
                if event.type == "response.done":
                    done.append(event)
                    break
    return done


@pytest.mark.provider("openai")
def test_sdk_realtime_one_priced_span_per_response(spans):
    with _server(USAGES) as server, lo.customer("acme"), lo.section("agent:voice"):
        done = _sdk_session(server, responses=2)
    assert [e.response.usage.input_tokens for e in done] == [1000, 2000]  # the app's events are intact
    assert server.paths == ["/v1/realtime?model=gpt-realtime"]
    calls = sorted(
        (dict(s.attributes) for s in spans.provider_calls()), key=lambda a: a["gen_ai.response.id"]
    )
    assert len(calls) == 2
    first, second = calls
    for attrs in calls:
        assert attrs["llmobserve.provider"] == "openai"
        assert attrs["llmobserve.operation"] == "realtime"
        assert attrs["gen_ai.request.model"] == "gpt-realtime"
        assert attrs["gen_ai.conversation.id"] == "sess_ABC"
        assert attrs["llmobserve.customer.id"] == "acme"
        assert attrs["llmobserve.section.path"] == "agent:voice"
        assert attrs["url.full"] == f"ws://{server.host_port}/v1/realtime"
        assert "sk-realtime-secret" not in repr(attrs)
    assert first["gen_ai.response.id"] == "resp_1"
    assert first["gen_ai.usage.input_tokens"] == 1000
    assert first["gen_ai.usage.output_tokens"] == 500
    assert first["gen_ai.usage.cache_read.input_tokens"] == 200
    assert first["llmobserve.usage.input_audio_tokens"] == 400
    assert first["llmobserve.usage.output_audio_tokens"] == 300
    # 400 uncached text in x $4 + 200 cached text x $0.40 + 400 audio in x $32 + 200 text out x $16 + 300 audio out x $64
    assert first["llmobserve.cost.usd"] == pytest.approx(
        (400 * 4 + 200 * 0.4 + 400 * 32 + 200 * 16 + 300 * 64) / M, abs=1e-12
    )
    assert first["llmobserve.cost.usd"] == pytest.approx(0.03688)
    # 400 uncached text x $4 + 400 cached text x $0.40 + 600 uncached audio x $32 + 600 cached audio x $0.40 + 100 text out x $16
    assert second["llmobserve.usage.cache_audio_read_tokens"] == 600
    assert second["llmobserve.cost.usd"] == pytest.approx(
        (400 * 4 + 400 * 0.4 + 600 * 32 + 600 * 0.4 + 100 * 16) / M, abs=1e-12
    )
    assert second["llmobserve.cost.usd"] == pytest.approx(0.0228)
    span = next(s for s in spans.provider_calls() if s.attributes["gen_ai.response.id"] == "resp_1")
    assert span.name == "realtime gpt-realtime"
    assert span.kind.name == "CLIENT"


@pytest.mark.provider("openai")
def test_raw_asyncio_client_binary_and_malformed_messages_pass_through(spans):
    received: list = []

    async def run(port: int) -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime") as ws:
            await ws.send(json.dumps({"type": "response.create"}))
            async for message in ws:
                received.append(message)
                if isinstance(message, str) and '"response.done"' in message and message.endswith("}"):
                    break

    with _server([USAGES[0]], junk=True) as server:
        asyncio.run(run(server.port))
    # The app got every message unchanged: session.created, response.created, binary, junk, 3 deltas, done.
    assert received[2] == b"\x00\x01binary-audio-frame"
    assert received[3] == '{"type": "response.done", "response": {"id": '
    assert len(received) == 8
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 1000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(0.03688)


@pytest.mark.provider("openai")
def test_connection_dropped_mid_response_ends_span_incomplete(spans):
    with _server([], drop_mid_response=True) as server:
        client = openai.OpenAI(api_key="sk-realtime-secret", websocket_base_url=f"ws://{server.host_port}/v1")
        with (
            pytest.raises(websockets.exceptions.ConnectionClosedError),
            client.realtime.connect(model="gpt-realtime", max_retries=0) as connection,
        ):
            connection.response.create()
            for _event in connection:
                pass
    (span,) = spans.provider_calls()
    attrs = dict(span.attributes)
    assert attrs["llmobserve.usage.incomplete"] is True
    assert attrs["gen_ai.response.id"] == "resp_1"
    assert "llmobserve.cost.usd" not in attrs
    assert span.status.status_code.name == "ERROR"


@pytest.mark.provider("openai")
def test_response_done_without_usage_is_recorded_unpriced(spans):
    with _server([None]) as server:
        _sdk_session(server, responses=1)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("openai")
def test_async_sdk_realtime_client(spans):
    async def run(server: RealtimeServer) -> int:
        client = openai.AsyncOpenAI(
            api_key="sk-realtime-secret", websocket_base_url=f"ws://{server.host_port}/v1"
        )
        async with client.realtime.connect(model="gpt-realtime") as connection:
            await connection.response.create()
            async for event in connection:
                if event.type == "response.done":
                    return event.response.usage.output_tokens
        return -1

    with _server([USAGES[0]]) as server:
        assert asyncio.run(run(server)) == 500
    attrs = spans.one_call()
    assert attrs["gen_ai.response.id"] == "resp_1"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(
        (400 * 4 + 200 * 0.4 + 400 * 32 + 200 * 16 + 300 * 64) / M, abs=1e-12
    )


@pytest.mark.provider("openai")
def test_input_audio_transcription_tokens_billed_apart(spans):
    # gpt-4o-transcribe (https://openai.com/api/pricing): text input $2.50, audio input $6.00, output $10.00 per 1M
    usage = {
        "type": "tokens",
        "total_tokens": 150,
        "input_tokens": 120,
        "input_token_details": {"text_tokens": 20, "audio_tokens": 100},
        "output_tokens": 30,
    }
    with _server([USAGES[0]], transcription=("gpt-4o-transcribe", usage)) as server:
        _sdk_session(server, responses=1)
    calls = {s.attributes["llmobserve.operation"]: dict(s.attributes) for s in spans.provider_calls()}
    assert set(calls) == {"realtime", "input_audio_transcription"}
    transcription = calls["input_audio_transcription"]
    assert transcription["gen_ai.request.model"] == "gpt-4o-transcribe"
    assert transcription["gen_ai.response.id"] == "item_in_1"
    assert transcription["gen_ai.usage.input_tokens"] == 120
    assert transcription["llmobserve.usage.input_audio_tokens"] == 100
    assert transcription["llmobserve.cost.usd"] == pytest.approx(
        (20 * 2.5 + 100 * 6 + 30 * 10) / M, abs=1e-12
    )  # $0.00095
    assert calls["realtime"]["llmobserve.cost.usd"] == pytest.approx(0.03688)


@pytest.mark.provider("openai")
def test_input_audio_transcription_duration_billed_per_second(spans):
    # whisper-1 (https://openai.com/api/pricing): $0.006 per minute
    with _server([USAGES[0]], transcription=("whisper-1", {"type": "duration", "seconds": 12.5})) as server:
        _sdk_session(server, responses=1)
    calls = {s.attributes["llmobserve.operation"]: dict(s.attributes) for s in spans.provider_calls()}
    transcription = calls["transcription"]
    assert transcription["gen_ai.request.model"] == "whisper-1"
    assert transcription["llmobserve.usage.seconds"] == 12.5
    assert transcription["llmobserve.cost.usd"] == pytest.approx(12.5 / 60 * 0.006, abs=1e-12)  # $0.00125
