"""The proxy's upstream HTTP/1.1 client: keep-alive pool per origin, one write per request, raw body chunks.

Why not httpx/httpcore: measured in `benchmarks/proxy.py`, httpcore's pool checks every pooled
connection on every request (O(connections) socket-readability probes through anyio) and sends
head and body in separate writes; under 50 concurrent clients that was over half the proxy's CPU.
This client is the small subset a forwarding proxy needs, on asyncio protocols with the httptools
parser (the one uvicorn uses): idle connections in a LIFO stack per origin (O(1) to take one), the
request written in one `write`, body chunks handed on as they arrive, with the transport paused
while a slow client has not taken them (backpressure), and timers instead of wrapper tasks.

Connecting: `_network.checked_addresses` resolves the host and refuses forbidden addresses, then
the socket connects to the checked address (TLS verifies the certificate and sends SNI for the host
name). Redirects are never followed (the response goes back as it is).
"""

from __future__ import annotations

import asyncio
import collections
import os
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httptools

from llmobserve_otel.proxy._network import checked_addresses

Headers = list[tuple[bytes, bytes]]
_HIGH_WATER = 1024 * 1024  # bytes buffered from the upstream before its socket stops being read
_LOW_WATER = 256 * 1024


class UpstreamError(Exception):
    """A failure talking to the upstream; the class name is the span's `error.type`."""


class ConnectError(UpstreamError):
    pass


class ConnectTimeout(UpstreamError):
    pass


class ReadTimeout(UpstreamError):
    pass


class RemoteProtocolError(UpstreamError):
    """The upstream closed the connection or sent something that is not HTTP/1.1."""


TIMEOUTS = (ConnectTimeout, ReadTimeout)


def _ssl_context() -> ssl.SSLContext:
    """Certificates verified against SSL_CERT_FILE when set, else certifi's bundle (what httpx and
    so the provider SDKs trust), else the system store."""
    cafile = os.environ.get("SSL_CERT_FILE")
    if not cafile:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:
            cafile = None
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Connection(asyncio.Protocol):
    """One keep-alive connection; serves one exchange at a time."""

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._paused = False
        self._error: UpstreamError | None = None
        self._received_any = False
        self._head_done = False
        self._complete = False
        self._head_only = False
        self._keep_alive = False
        self.status = 0
        self.headers: Headers = []

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(RemoteProtocolError("upstream switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(RemoteProtocolError(f"malformed HTTP from upstream: {exc}"))
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._complete:
            if self._head_done and not self._head_only and self._body_ends_at_close():
                self._complete = True  # a body delimited by the connection's close
                self._wake()
                return
            self._fail(RemoteProtocolError("upstream closed the connection before the response was complete"))

    # --- httptools callbacks ---

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if status < 200:  # 1xx interim response: the real one follows
            self.headers = []
            return
        self.status = status
        self._keep_alive = self._parser.should_keep_alive()  # reset once the message completes
        self._head_done = True
        if self._head_only:
            self._complete = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._head_only or not self._head_done:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        self._wake()

    def on_message_complete(self) -> None:
        if not self._head_done:
            return
        self._complete = True
        self._wake()

    # --- the exchange ---

    def _body_ends_at_close(self) -> bool:
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None:
            self._error = error
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def _wait(self, timeout: float | None, what: str) -> None:
        if self._error is not None:
            raise self._error
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, self._timeout, waiter, what)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _timeout(self, waiter: asyncio.Future[None], what: str) -> None:
        if not waiter.done():
            waiter.set_exception(ReadTimeout(f"no {what} from upstream in time"))

    def start(self, request: bytes, head_only: bool) -> None:
        self.status = 0
        self.headers = []
        self._chunks.clear()
        self._buffered = 0
        self._error = None
        self._received_any = False
        self._head_done = self._complete = self._keep_alive = False
        self._head_only = head_only
        assert self.transport is not None
        self.transport.write(request)

    async def head(self, timeout: float | None) -> None:
        while not self._head_done:
            await self._wait(timeout, "response head")

    async def body(self, timeout: float | None) -> AsyncIterator[bytes]:
        chunks = self._chunks
        while True:
            while chunks:
                chunk = chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered < _LOW_WATER and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                yield chunk
            if self._complete:
                return
            await self._wait(timeout, "body data")

    @property
    def reusable(self) -> bool:
        return self._complete and self._keep_alive and not self.closed and not self._head_only


class Response:
    """An upstream response: status and headers now, the body as it arrives; `aclose()` always."""

    def __init__(self, pool: UpstreamPool, connection: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._connection = connection
        self._read_timeout = read_timeout
        self.status = connection.status
        self.headers = connection.headers

    @property
    def drained(self) -> bool:
        """The whole body has arrived and been handed out (the chunk just taken was the last)."""
        connection = self._connection
        return connection._complete and not connection._chunks

    def aiter_stream(self) -> AsyncIterator[bytes]:
        return self._connection.body(self._read_timeout)

    async def aclose(self) -> None:
        """Back to the pool when the body was read to its end; otherwise the connection is closed
        (mid-body, this is how the upstream learns the request was cancelled)."""
        connection = self._connection
        if connection.reusable:
            self._pool._release(connection)
        else:
            connection.close()


class UpstreamPool:
    """Keep-alive connections per origin, taken most-recently-used first."""

    def __init__(
        self,
        *,
        trusted: Callable[[str, int], bool],
        is_own: Callable[[Any, int], bool],
        allow_private: bool = False,
        max_idle_per_origin: int = 512,
        keepalive_expiry: float = 60.0,
    ) -> None:
        self._trusted = trusted
        self._is_own = is_own
        self._allow_private = allow_private
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._max_idle = max_idle_per_origin
        self._expiry = keepalive_expiry
        self._ssl: ssl.SSLContext | None = None

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        addresses = await checked_addresses(
            host, port, trusted=self._trusted(host, port) or self._allow_private, is_own=self._is_own
        )
        tls = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = _ssl_context()
            tls = self._ssl
        error: Exception | None = None
        for address in addresses:
            try:
                _, connection = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: _Connection(origin),
                        host=str(address),
                        port=port,
                        ssl=tls,
                        server_hostname=host if tls is not None else None,
                    ),
                    timeout,
                )
                return connection
            except asyncio.TimeoutError:
                error = ConnectTimeout(f"connecting to {host}:{port} timed out")
            except (OSError, ssl.SSLError) as exc:
                error = ConnectError(f"{host}:{port}: {exc}")
        assert error is not None
        raise error

    def _take(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self._expiry:
                return connection
            connection.close()
        return None

    def _release(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.origin, [])
        if len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def request(
        self,
        method: str,
        origin: tuple[str, str, int],
        request: bytes,
        *,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> Response:
        """Send `request` (head and body, already encoded) and wait for the response head."""
        head_only = method == "HEAD"
        connection = self._take(origin)
        if connection is not None:
            connection.start(request, head_only)
            try:
                await connection.head(read_timeout)
                return Response(self, connection, read_timeout)
            except RemoteProtocolError:
                # A kept-alive connection the upstream closed just as it was reused, before any byte
                # of an answer: the request never reached it, so it goes once more on a new one.
                if connection._received_any:
                    raise
            except BaseException:
                connection.close()
                raise
        connection = await self._connect(origin, connect_timeout)
        connection.start(request, head_only)
        try:
            await connection.head(read_timeout)
        except BaseException:
            connection.close()
            raise
        return Response(self, connection, read_timeout)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


def encode_request(method: str, target: bytes, headers: Headers, body: bytes) -> bytes:
    """The request line, headers and body as one buffer (one write, one syscall)."""
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    parts.append(body)
    return b"".join(parts)
