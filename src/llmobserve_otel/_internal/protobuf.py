"""Protobuf wire format, written by hand where building message objects costs too much.

Shared by the proxy's OTLP encoder (`proxy/_otlp.py`) and the collector's span-row framing
(`collector/_span_rows.py`). Tags are passed pre-encoded (`field number << 3 | wire type`).
"""

from __future__ import annotations

__all__ = ("SMALL", "field", "varint")

SMALL = [bytes((n,)) for n in range(128)]
"""The varints of 0 to 127: one byte each (lengths and enum values written inline)."""


def varint(value: int) -> bytes:
    """A varint; a negative value as int64 two's complement (ten bytes), as protobuf writes it."""
    if 0 <= value < 128:
        return SMALL[value]
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag + varint(len(payload)) + payload
