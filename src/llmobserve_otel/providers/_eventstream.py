"""Incremental decoder for AWS event streams (`application/vnd.amazon.eventstream`).

Bedrock's ConverseStream and InvokeModelWithResponseStream answer with binary frames:

    total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (u32 BE)
    headers: name length (u8) | name | value type (u8) | value
    payload | message CRC32 (u32 BE)

(https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html#streaming-event-stream,
the same framing as botocore's `eventstream.py`). Feed byte chunks split anywhere; get each whole
message as (event type, payload text), the shape `StreamState.feed` takes for SSE too. Exceptions
in the stream come out as `exception:<type>`. A corrupt frame raises ValueError (the body observer
then stops observing; the app's bytes are untouched).
"""

from __future__ import annotations

import struct
import zlib

Event = tuple[str | None, str]

_PRELUDE = 12
_MAX_MESSAGE = 24 * 1024 * 1024 + 128 * 1024  # botocore's payload + headers bounds
# value type -> fixed size (bool true/false have none; bytes/string carry a u16 length)
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_STRING, _BYTES = 7, 6


class EventStreamDecoder:
    """Decode an AWS event stream incrementally; pure, no I/O."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def decode(self, chunk: bytes) -> list[Event]:
        """Return the messages completed by `chunk`."""
        self._buffer += chunk
        events: list[Event] = []
        buffer = self._buffer
        start = 0
        while len(buffer) - start >= _PRELUDE:
            total, headers_length, prelude_crc = struct.unpack_from(">III", buffer, start)
            if zlib.crc32(buffer[start : start + 8]) != prelude_crc:
                raise ValueError("event stream prelude CRC mismatch")
            if total > _MAX_MESSAGE or total < _PRELUDE + headers_length + 4:
                raise ValueError(f"event stream message length {total} out of bounds")
            if len(buffer) - start < total:
                break
            end = start + total
            (message_crc,) = struct.unpack_from(">I", buffer, end - 4)
            if zlib.crc32(buffer[start : end - 4]) != message_crc:
                raise ValueError("event stream message CRC mismatch")
            headers_end = start + _PRELUDE + headers_length
            headers = _headers(bytes(buffer[start + _PRELUDE : headers_end]))
            payload = bytes(buffer[headers_end : end - 4]).decode("utf-8", errors="replace")
            events.append((_event_name(headers), payload))
            start = end
        del buffer[:start]
        return events

    def flush(self) -> list[Event]:
        """End of stream: a partial message left over is dropped (it can hold no usage)."""
        self._buffer.clear()
        return []


def _event_name(headers: dict[str, object]) -> str | None:
    if headers.get(":message-type") == "exception":
        return f"exception:{headers.get(':exception-type')}"
    value = headers.get(":event-type")
    return value if isinstance(value, str) else None


def _headers(data: bytes) -> dict[str, object]:
    """String-valued headers by name (the others are skipped: usage never sits in them)."""
    headers: dict[str, object] = {}
    offset = 0
    while offset < len(data):
        name_length = data[offset]
        name = data[offset + 1 : offset + 1 + name_length].decode("utf-8", errors="replace")
        offset += 1 + name_length
        value_type = data[offset]
        offset += 1
        if value_type in (_STRING, _BYTES):
            (length,) = struct.unpack_from(">H", data, offset)
            value = data[offset + 2 : offset + 2 + length]
            offset += 2 + length
            if value_type == _STRING:
                headers[name] = value.decode("utf-8", errors="replace")
        elif value_type in _FIXED:
            offset += _FIXED[value_type]
        else:
            raise ValueError(f"event stream header type {value_type} unknown")
    if offset != len(data):
        raise ValueError("event stream headers overrun")
    return headers


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One frame with string headers (tests and simulators build streams with it)."""
    encoded = b"".join(
        bytes([len(name.encode())])
        + name.encode()
        + bytes([_STRING])
        + struct.pack(">H", len(value.encode()))
        + value.encode()
        for name, value in headers.items()
    )
    total = _PRELUDE + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """An `event` message as AWS services send it."""
    return encode_message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload
    )
