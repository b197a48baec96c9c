"""The AWS event-stream decoder: botocore's own parser agrees on our frames, and every split point decodes alike."""

from __future__ import annotations

import json
import struct

import pytest
from botocore.eventstream import EventStreamBuffer

from llmobserve_otel.providers._eventstream import EventStreamDecoder, encode_message, event

STREAM = b"".join(
    [
        event("messageStart", b'{"role":"assistant"}'),
        event(
            "contentBlockDelta",
            json.dumps({"contentBlockIndex": 0, "delta": {"text": "h\u00e9llo"}}).encode(),
        ),
        event("messageStop", b'{"stopReason":"end_turn"}'),
        event(
            "metadata",
            b'{"usage":{"inputTokens":12,"outputTokens":34,"totalTokens":46},"metrics":{"latencyMs":5}}',
        ),
    ]
)
EXPECTED = [
    ("messageStart", '{"role":"assistant"}'),
    ("contentBlockDelta", json.dumps({"contentBlockIndex": 0, "delta": {"text": "h\u00e9llo"}})),
    ("messageStop", '{"stopReason":"end_turn"}'),
    ("metadata", '{"usage":{"inputTokens":12,"outputTokens":34,"totalTokens":46},"metrics":{"latencyMs":5}}'),
]


def test_botocore_reads_our_frames():
    buffer = EventStreamBuffer()
    buffer.add_data(STREAM)
    messages = list(buffer)
    assert [m.headers[":event-type"] for m in messages] == [name for name, _ in EXPECTED]
    assert messages[-1].payload.decode() == EXPECTED[-1][1]


def test_whole_stream():
    assert EventStreamDecoder().decode(STREAM) == EXPECTED


@pytest.mark.parametrize("split", range(1, len(STREAM)))
def test_every_split_point(split):
    decoder = EventStreamDecoder()
    events = decoder.decode(STREAM[:split]) + decoder.decode(STREAM[split:]) + decoder.flush()
    assert events == EXPECTED


def test_byte_by_byte():
    decoder = EventStreamDecoder()
    events = [e for i in range(len(STREAM)) for e in decoder.decode(STREAM[i : i + 1])]
    assert events == EXPECTED


def test_exception_message_and_non_string_headers():
    headers = {":message-type": "exception", ":exception-type": "throttlingException"}
    frame = encode_message(headers, b'{"message":"slow down"}')
    assert EventStreamDecoder().decode(frame) == [
        ("exception:throttlingException", '{"message":"slow down"}')
    ]
    # a header of type int32 (4) before the strings is skipped by size
    name = b"n"
    extra = bytes([len(name)]) + name + bytes([4]) + struct.pack(">i", 7)
    frame = event("metadata", b"{}")
    _total, headers_length = struct.unpack_from(">II", frame)
    rebuilt = _reframe(extra + frame[12 : 12 + headers_length], b"{}")
    assert EventStreamDecoder().decode(rebuilt) == [("metadata", "{}")]


def _reframe(headers: bytes, payload: bytes) -> bytes:
    import zlib

    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


@pytest.mark.parametrize("corrupt_at", [0, 9, 20, -1])
def test_corrupt_frame_raises(corrupt_at):
    frame = bytearray(event("metadata", b"{}"))
    frame[corrupt_at] ^= 0xFF
    with pytest.raises(ValueError):
        EventStreamDecoder().decode(bytes(frame))


def test_partial_message_at_end_is_dropped():
    decoder = EventStreamDecoder()
    assert decoder.decode(STREAM[:-3]) == EXPECTED[:3]
    assert decoder.flush() == []
