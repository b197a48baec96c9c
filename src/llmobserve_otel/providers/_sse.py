"""Incremental server-sent-events decoder: feed byte chunks split anywhere, get whole events.

Pure and boundary-safe (a chunk may end inside a UTF-8 sequence, a CRLF, a field or an event),
in the spirit of httpx's `_decoders.py`. Only `event` and `data` fields matter for usage.
"""

from __future__ import annotations

import codecs

Event = tuple[str | None, str]


class SSEDecoder:
    """Decode a text/event-stream incrementally, per the WHATWG event-stream rules."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event: str | None = None
        self._data: list[str] = []

    def decode(self, chunk: bytes) -> list[Event]:
        """Return the events completed by `chunk`."""
        self._buffer += self._text.decode(chunk)
        return self._drain(final=False)

    def flush(self) -> list[Event]:
        """Return the event left over at end of stream, if it was complete but not blank-line terminated."""
        self._buffer += self._text.decode(b"", final=True)
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> list[Event]:
        events: list[Event] = []
        buffer = self._buffer
        start = 0
        # Most servers end lines with LF only; then one find() per line is enough.
        find_end = _line_end if "\r" in buffer else _lf_end
        while True:
            end = find_end(buffer, start)
            if end is None:
                break
            line_end, next_start = end
            if line_end == len(buffer) - 1 and buffer[line_end] == "\r" and not final:
                break  # a lone CR at the end may be half of CRLF; wait for more
            self._line(buffer[start:line_end], events)
            start = next_start
        self._buffer = buffer[start:]
        if final:
            if self._buffer:
                self._line(self._buffer, events)
                self._buffer = ""
            self._line("", events)
        return events

    def _line(self, line: str, events: list[Event]) -> None:
        if not line:
            if self._data:
                events.append((self._event, "\n".join(self._data)))
            self._event, self._data = None, []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value


def _lf_end(buffer: str, start: int) -> tuple[int, int] | None:
    lf = buffer.find("\n", start)
    return None if lf == -1 else (lf, lf + 1)


def _line_end(buffer: str, start: int) -> tuple[int, int] | None:
    """Index of the next line terminator at or after `start` and where the next line begins."""
    lf = buffer.find("\n", start)
    cr = buffer.find("\r", start)
    if cr == -1 or (lf != -1 and lf < cr):
        return None if lf == -1 else (lf, lf + 1)
    if cr + 1 < len(buffer) and buffer[cr + 1] == "\n":
        return cr, cr + 2
    return cr, cr + 1
