"""Observing a response body as the application reads it: bounded JSON copy or incremental SSE.

The bytes the application reads are never changed or read a second time; the observer only sees
each chunk as it passes. Content-encoded bodies (gzip, deflate) are decoded on our side only.
"""

from __future__ import annotations

import zlib
from typing import Any

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel.providers import Route, StreamState, Usage
from llmobserve_otel.providers._eventstream import EventStreamDecoder
from llmobserve_otel.providers._json import loads_bytes
from llmobserve_otel.providers._sse import SSEDecoder

_DECODABLE = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class _Decoder:
    """Incremental content decoding with an output bound (a gzip bomb stops at the bound)."""

    def __init__(self, encoding: str, limit: int) -> None:
        self._zlib = zlib.decompressobj(_DECODABLE[encoding])
        self._left = limit

    def decode(self, chunk: bytes) -> bytes:
        if self._left <= 0:
            raise ValueError("decoded body over the bound")
        out = self._zlib.decompress(chunk, self._left)
        self._left -= len(out)
        return out


class BodyObserver:
    """Parses usage from the chunks of one response body; finished exactly once via `result()`."""

    __slots__ = ("_buffer", "_decoder", "_limit", "_provider", "_route", "_size", "_sse", "_state", "problem")

    def __init__(
        self,
        provider: Any,
        route: Route,
        *,
        stream: bool,
        encoding: str | None,
        limit: int,
        event_stream: bool = False,
    ) -> None:
        """`stream`: SSE events go to the provider's stream state; `event_stream`: AWS binary frames do."""
        self._provider = provider
        self._route = route
        self._limit = limit
        self.problem: str | None = None
        self._decoder: _Decoder | None = None
        if encoding and encoding != "identity":
            if encoding in _DECODABLE:
                self._decoder = _Decoder(encoding, limit * 4)
            else:
                self.problem = f"content-encoding {encoding} not decoded"
        self._state: StreamState | None = provider.new_stream(route) if stream else None
        # A stream state may tell from a chunk's text that it would ignore all its events (`skips`):
        # the decoder then does not split them out (most chunks of a chat stream).
        self._sse: SSEDecoder | EventStreamDecoder | None = (
            (EventStreamDecoder() if event_stream else SSEDecoder(getattr(self._state, "skips", None)))
            if stream
            else None
        )
        # Chunks kept as they come (most bodies are one chunk: no copy); joined once in `result()`.
        self._buffer: list[bytes] | None = None if stream else []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if self.problem is not None or not chunk:
            return
        try:
            if self._decoder is not None:
                chunk = self._decoder.decode(chunk)
            if self._sse is not None:
                events = self._sse.decode(chunk)
                if events:  # most chunks of a stream complete one event; some none
                    state_feed = self._state.feed  # type: ignore[union-attr]
                    for event, data in events:
                        state_feed(event, data)
            elif self._buffer is not None:
                self._size += len(chunk)
                if self._size > self._limit:
                    self.problem = f"body over {self._limit} bytes, not parsed"
                    self._buffer = None
                else:
                    self._buffer.append(chunk)
        except Exception as exc:  # a body we cannot follow: stop observing, the app reads on untouched
            self.problem = f"body not parsed: {type(exc).__name__}"
            self._buffer = None

    @property
    def terminal_seen(self) -> bool:
        """The stream's terminal event passed: closing the body now loses nothing."""
        return self._state is not None and self._state.done

    def result(self) -> Usage | None:
        """The usage seen so far (for an abandoned stream: what is known)."""
        if self.problem is not None:
            return None
        try:
            if self._state is not None:
                assert self._sse is not None
                for event, data in self._sse.flush():
                    self._state.feed(event, data)
                return self._state.finish()
            if not self._buffer or not self._size:  # decoding may yield empty chunks
                self.problem = "empty body"
                return None
            try:
                body = loads_bytes(b"".join(self._buffer))
            except ValueError:
                self.problem = "malformed JSON body"
                return None
            usage = self._provider.parse_json(self._route, body)
            if usage is None:
                self.problem = "no usage in response"
            return usage  # type: ignore[no-any-return]
        except Exception as exc:  # a provider parser's bug: no usage, but the span still ends
            self.problem = f"usage not parsed: {type(exc).__name__}"
            report_internal_error("capture.parse", exc)
            return None
        finally:
            self._buffer = None
