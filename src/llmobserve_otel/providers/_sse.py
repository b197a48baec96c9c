"""Incremental server-sent-events decoder: feed byte chunks split anywhere, get whole events.

Pure and boundary-safe (a chunk may end inside a UTF-8 sequence, a CRLF, a field or an event),
in the spirit of httpx's `_decoders.py`. Only `event` and `data` fields matter for usage.
"""

from __future__ import annotations

import re
from codecs import utf_8_decode
from collections.abc import Callable

Event = tuple[str | None, str]


class SSEDecoder:
    """Decode a text/event-stream incrementally, per the WHATWG event-stream rules."""

    def __init__(self, skip: Callable[[str], bool] | None = None) -> None:
        """`skip(text)`: True when the events of `text` (whole events) matter to no one; they are
        then dropped without being split out (most chunks of a chat stream)."""
        self._skip = skip
        self._pending = b""
        """The bytes of a UTF-8 sequence cut by the end of the last chunk."""
        self._buffer = ""
        self._event: str | None = None
        self._data: list[str] = []

    def decode(self, chunk: bytes) -> list[Event]:
        """Return the events completed by `chunk`."""
        # codecs' incremental decoder, minus its Python-level method (this runs for every chunk).
        if self._pending:
            chunk = self._pending + chunk
        text, used = utf_8_decode(chunk, "replace", False)
        self._pending = chunk[used:] if used != len(chunk) else b""
        if not self._buffer and not self._data and text.endswith("\n\n"):
            # Whole events: after them the decoder is empty again, so they can be dropped.
            if self._skip is not None and self._skip(text):
                self._event = None
                return []
            if "\r" in text:
                return self._drain(text, final=False)
            # One whole event per chunk, as most servers send them: `data: D` or `event: E` + `data: D`.
            body = text[:-2]
            if "\n" not in body:
                if body.startswith("data: "):
                    event, self._event = self._event, None
                    return [(event, body[6:])]
            else:
                head, _, line = body.partition("\n")
                if head.startswith("event: ") and line.startswith("data: ") and "\n" not in line:
                    self._event = None
                    return [(head[7:], line[6:])]
        return self._drain(self._buffer + text, final=False)

    def flush(self) -> list[Event]:
        """Return the event left over at end of stream, if it was complete but not blank-line terminated."""
        text = utf_8_decode(self._pending, "replace", True)[0]
        self._pending = b""
        return self._drain(self._buffer + text, final=True)

    def _drain(self, buffer: str, *, final: bool) -> list[Event]:
        # Most servers end lines with LF only: one split() per chunk, then one pass over the lines
        # with the event state in locals (this runs for every chunk of every stream).
        if "\r" in buffer:
            lines = _LINE_BREAK.split(buffer)
            if buffer[-1] == "\r" and not final:
                lines.pop()  # the "" after the lone CR at the end: it may be half of CRLF; wait for more
                lines[-1] += "\r"
        else:
            lines = buffer.split("\n")
        self._buffer = "" if final else lines.pop()  # the line not yet terminated
        if final:
            lines.append("")  # end of stream dispatches the last event
        events: list[Event] = []
        event, data = self._event, self._data
        for line in lines:
            if not line:
                if data:
                    events.append((event, "\n".join(data)))
                event, data = None, []
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line[0] != ":":
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "event":
                    event = value
        self._event, self._data = event, data
        return events


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
