"""The SSE decoder at every split point of recorded bodies: same events however the bytes arrive."""

from __future__ import annotations

import pytest

from llmobserve_otel.providers._sse import SSEDecoder

ANTHROPIC = (
    "event: message_start\n"
    'data: {"type":"message_start","message":{"model":"claude-sonnet-4-5","usage":{"input_tokens":25}}}\n\n'
    'event: ping\ndata: {"type": "ping"}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Hallo \xe2\x9c\x93"}}\n\n'
    "event: message_delta\n"
    'data: {"type":"message_delta","usage":{"output_tokens":15}}\n\n'
    'event: message_stop\ndata: {"type":"message_stop"}\n\n'
).encode("latin-1")
OPENAI_CRLF = (
    b'data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}]}\r\n\r\n'
    b": keep-alive comment\r\n\r\n"
    b'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9}}\r\n\r\n'
    b"data: [DONE]\r\n\r\n"
)
MULTILINE = b"data: line one\ndata: line two\n\nevent: x\ndata:no-space\n"  # last event ends at EOF


def decode_all(chunks: list[bytes]) -> list:
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events.extend(decoder.decode(chunk))
    return events + decoder.flush()


@pytest.mark.parametrize(
    "body", [ANTHROPIC, OPENAI_CRLF, MULTILINE], ids=["anthropic", "openai-crlf", "multiline"]
)
def test_every_split_point(body: bytes):
    whole = decode_all([body])
    for i in range(len(body) + 1):
        assert decode_all([body[:i], body[i:]]) == whole, i
    assert decode_all([bytes([b]) for b in body]) == whole


def test_events():
    assert [e for e, _ in decode_all([ANTHROPIC])] == [
        "message_start",
        "ping",
        "content_block_delta",
        "message_delta",
        "message_stop",
    ]
    assert '"Hallo ✓"' in decode_all([ANTHROPIC])[2][1]
    assert decode_all([OPENAI_CRLF])[-1] == (None, "[DONE]")
    assert decode_all([MULTILINE]) == [(None, "line one\nline two"), ("x", "no-space")]
