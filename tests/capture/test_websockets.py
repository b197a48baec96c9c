"""The `websockets` capture as a transport: which connections it observes, and that it changes nothing."""

from __future__ import annotations

import json
import threading

import pytest
import websockets.asyncio.client as async_client
import websockets.sync.client as sync_client
from websockets.sync.server import serve
from wire import map_host

from llmobserve_otel.capture.websockets import CAPTURE

DONE = {
    "type": "response.done",
    "event_id": "evt_2",
    "response": {
        "object": "realtime.response",
        "id": "resp_1",
        "status": "completed",
        "output": [],
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "input_token_details": {},
            "output_token_details": {},
        },
    },
}
CREATED = {
    "type": "response.created",
    "event_id": "evt_1",
    "response": {"id": "resp_1", "status": "in_progress"},
}


class EchoEvents:
    """Sends a fixed list of messages to each client, then waits for it to close."""

    def __init__(self, messages: list) -> None:
        self.messages = messages
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handle(self, ws) -> None:
        for message in self.messages:
            ws.send(message)
        for _ in ws:
            pass

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def events():
    server = EchoEvents([json.dumps(CREATED), b"\x00binary", json.dumps(DONE)])
    yield server
    server.close()


def _read_all(port: int, path: str = "/v1/realtime?model=gpt-realtime") -> list:
    with sync_client.connect(f"ws://127.0.0.1:{port}{path}") as ws:
        return [ws.recv() for _ in range(3)]


def test_client_connection_classes_are_wrapped():
    assert CAPTURE.instrumented
    assert "recv" in sync_client.ClientConnection.__dict__
    assert "recv" in async_client.ClientConnection.__dict__


def test_unclaimed_host_is_not_observed(spans, events):
    messages = _read_all(events.port)  # 127.0.0.1:<port> is mapped to no provider
    assert messages == [json.dumps(CREATED), b"\x00binary", json.dumps(DONE)]
    assert spans.provider_calls() == []


def test_provider_without_websocket_hook_is_not_observed(spans, events):
    map_host(f"127.0.0.1:{events.port}", "elevenlabs")  # claimed, but elevenlabs has no WebSocket parser
    assert len(_read_all(events.port)) == 3
    assert spans.provider_calls() == []


def test_openai_path_other_than_realtime_is_not_observed(spans, events):
    map_host(f"127.0.0.1:{events.port}", "openai")
    assert len(_read_all(events.port, "/v1/other")) == 3
    assert spans.provider_calls() == []


def test_sync_client_realtime_span_and_messages_unchanged(spans, events):
    map_host(f"127.0.0.1:{events.port}", "openai")
    messages = _read_all(events.port)
    assert messages == [json.dumps(CREATED), b"\x00binary", json.dumps(DONE)]
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "gpt-realtime"  # from the handshake query, no session event
    assert attrs["gen_ai.usage.input_tokens"] == 10
    # gpt-realtime: 10 text in x $4 + 5 text out x $16 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((10 * 4 + 5 * 16) / 1_000_000, abs=1e-12)


def test_uninstrument_and_instrument_again(spans, events):
    from llmobserve_otel import capture

    map_host(f"127.0.0.1:{events.port}", "openai")
    registry, config = CAPTURE.registry, CAPTURE.config
    CAPTURE.uninstrument()
    try:
        assert "recv" not in sync_client.ClientConnection.__dict__
        assert len(_read_all(events.port)) == 3
        assert spans.provider_calls() == []
    finally:
        assert CAPTURE.instrument(registry, config)
        CAPTURE.instrument(registry, config)  # idempotent: wrapped once
    assert not hasattr(sync_client.ClientConnection.__dict__["recv"].__wrapped__, "_self_wrapper")
    _read_all(events.port)
    assert len(spans.provider_calls()) == 1
    assert "websockets" in capture.instrumented()


def test_app_closing_mid_response_ends_it_incomplete(spans):
    server = EchoEvents([json.dumps(CREATED)])
    try:
        map_host(f"127.0.0.1:{server.port}", "openai")
        with sync_client.connect(f"ws://127.0.0.1:{server.port}/v1/realtime?model=gpt-realtime") as ws:
            assert ws.recv() == json.dumps(CREATED)
        # the context manager closed the connection with resp_1 still in flight
    finally:
        server.close()
    (span,) = spans.provider_calls()
    attrs = dict(span.attributes)
    assert attrs["gen_ai.response.id"] == "resp_1"
    assert attrs["llmobserve.usage.incomplete"] is True
    assert "llmobserve.cost.usd" not in attrs
