"""The proxy's ASGI application: check, forward, stream back, record one span per call.

A plain ASGI callable rather than a framework router: the proxy's whole job is the hot path
(one dict lookup for the route, bytes in and out), and every layer between uvicorn and the
upstream socket is added latency on every call.

Per request: `/health` answers directly; otherwise the body is read (bounded: 413 past
`max_body_bytes`), the token checked (401), the target resolved (`_targets`: 404 / 400 / 403),
and the request forwarded on the pooled upstream connection. The response status, headers (minus
hop-by-hop) and body bytes go back as they arrive, each chunk also fed to the span's body observer.
Failures before the response head: timeout 504, refused address 403, connection failure 502, each
with a JSON body `{"error": {"type": "llmobserve_proxy_error", "code", "message"}}`. Failures after
it (upstream hang-up or timeout mid-body) cut the client's connection, so the client sees the
truncation the upstream caused instead of a body that looks complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.env import env_flag
from llmobserve_otel.capture._call import CaptureConfig, ProviderCall, RequestView
from llmobserve_otel.proxy import _telemetry
from llmobserve_otel.proxy._headers import client_response_headers, header_dict, upstream_request_headers
from llmobserve_otel.proxy._network import OwnSockets, TargetRefused
from llmobserve_otel.proxy._targets import Refused, Target, Targets
from llmobserve_otel.proxy._upstream import TIMEOUTS, Response, UpstreamError, UpstreamPool, encode_request

_log = logging.getLogger("llmobserve_otel.proxy")

TOKEN_HEADER = b"x-llmobserve-proxy-token"
HEALTH_PATH = b"/health"
# Span attribute: how the exchange ended when it did not end normally (client_disconnected, ...).
OUTCOME = "llmobserve.proxy.outcome"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class ProxyConfig:
    """How the proxy runs (the CLI fills it from flags and environment)."""

    upstreams: dict[str, str] = field(default_factory=dict)
    """Provider id -> base URL overriding its public host (self-hosted endpoints, tests)."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts (`api.example.com`, `*.example.com`, `host:port`) the `/_/` form may reach besides provider hosts."""
    allow_private: bool = False
    """Let allowed targets resolve to loopback, private and link-local addresses."""
    token: str | None = None
    """Required from clients when set (`Proxy-Authorization: Bearer T` or `x-llmobserve-proxy-token: T`)."""
    max_body_bytes: int = 32 * 1024 * 1024
    """Largest request body; larger ones get 413."""
    upstream_timeout: float = 600.0
    """Seconds to wait for the upstream's response head and between body chunks (504 / cut)."""
    connect_timeout: float = 10.0
    """Seconds to open an upstream connection (504 past it)."""
    max_idle_connections: int = 512
    """Idle keep-alive connections kept per upstream host."""
    price: bool = False
    """Price spans in the proxy (`llmobserve.cost.source=proxy`); by default the collector does."""
    provider_hosts: str | None = None
    """`LLMOBSERVE_PROVIDER_HOSTS` of the proxy process: extra provider hosts, trusted by the operator."""


class _Abort(Exception):
    """The upstream failed mid-body: uvicorn closes the client connection (no clean end of body)."""


class _ClientGone(Exception):
    pass


class _State:
    __slots__ = ("disconnected", "done")

    def __init__(self) -> None:
        self.done = False
        self.disconnected = False


class _PlainCall:
    """The span of a forwarded request that no provider module prices (same interface as ProviderCall)."""

    def __init__(self, tracer: trace.Tracer, method: str, target: Target) -> None:
        attrs: dict[str, Any] = {
            sc.HTTP_REQUEST_METHOD: method,
            sc.SERVER_ADDRESS: target.host,
            sc.SERVER_PORT: target.port,
            sc.URL_FULL: f"{target.scheme}://{target.authority}{target.path}",
        }
        self.span = tracer.start_span(method, kind=SpanKind.CLIENT, attributes=attrs)
        self._done = False

    def response(self, status: int, headers: Any) -> None:
        self.span.set_attribute(sc.HTTP_RESPONSE_STATUS_CODE, status)
        if status >= 400:
            self.span.set_attribute(sc.ERROR_TYPE, str(status))
            self.span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))

    def finish(self, *, complete: bool, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        if error is not None:
            self.span.set_attribute(sc.ERROR_TYPE, type(error).__qualname__)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.span.end()


def _request_view(
    method: str, target: Target, body: bytes, headers: list[tuple[bytes, bytes]]
) -> RequestView:
    content_type = next((v.decode("latin-1") for n, v in headers if n == b"content-type"), None)
    return RequestView(
        method=method,
        scheme=target.scheme,
        host=target.host,
        port=target.port,
        path=target.path,
        body=body,
        content_type=content_type,
    )


def _error_body(code: str, message: str) -> bytes:
    return json.dumps(
        {"error": {"type": "llmobserve_proxy_error", "code": code, "message": message}}
    ).encode()


async def _respond(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Proxy:
    """The proxy: its routing table, upstream pool and tracer. Serve `proxy` (an ASGI app)."""

    def __init__(self, config: ProxyConfig, *, tracer_provider: Any | None = None) -> None:
        self.config = config
        self.targets = Targets(
            upstreams=config.upstreams, allow_hosts=config.allow_hosts, provider_hosts=config.provider_hosts
        )
        self.own = OwnSockets()
        """Where the proxy listens (no request may loop back to it); the server fills it."""
        self.pool: UpstreamPool | None = None
        self.tracer_provider = (
            tracer_provider if tracer_provider is not None else _telemetry.tracer_provider()
        )
        tracer = _telemetry.tracer(self.tracer_provider)
        self._tracer = tracer
        self._capture = CaptureConfig(
            tracer=tracer,
            max_body_bytes=min(config.max_body_bytes, 8 * 1024 * 1024),
            capture_content=env_flag("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", default=False),
            price_source=sc.SOURCE_PROXY if config.price else None,
        )
        self._token = config.token.encode() if config.token else None

    # --- lifecycle ---

    def open(self) -> None:
        if self.pool is None:
            self.pool = UpstreamPool(
                trusted=self.targets.is_trusted,
                is_own=self.own,
                allow_private=self.config.allow_private,
                max_idle_per_origin=self.config.max_idle_connections,
            )

    async def aclose(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            await pool.aclose()

    def flush(self, timeout_millis: int = 30_000) -> None:
        with contextlib.suppress(Exception):
            self.tracer_provider.force_flush(timeout_millis)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Requests in flight have finished (uvicorn drains them first): flush their spans.
                await self.aclose()
                await asyncio.get_running_loop().run_in_executor(None, self.tracer_provider.shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- requests ---

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        if self._token is None:
            return True
        for name, value in headers:
            if name == b"proxy-authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token):
                    return True
            elif name == TOKEN_HEADER and hmac.compare_digest(value.strip(), self._token):
                return True
        return False

    async def _read_body(self, headers: list[tuple[bytes, bytes]], receive: Any) -> bytes:
        limit = self.config.max_body_bytes
        # An oversized body is still read and dropped up to a few times the limit: answering while
        # the client is still sending makes it see a reset connection instead of the 413.
        drain_limit = 4 * limit
        for name, value in headers:
            if name == b"content-length" and value.isdigit() and int(value) > drain_limit:
                raise Refused(413, "request_too_large", f"request body over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > drain_limit:
                break
            else:
                chunks.clear()
            if not message.get("more_body", False):
                break
        if size > limit:
            raise Refused(413, "request_too_large", f"request body over {limit} bytes")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        method: str = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if raw_path == HEALTH_PATH and method in ("GET", "HEAD"):
            await _respond(send, 200, b'{"status":"ok"}')
            return
        try:
            body = await self._read_body(headers, receive)
            if not self._authorized(headers):
                raise Refused(401, "proxy_token_required", "missing or wrong proxy token")
            target = self.targets.resolve(raw_path, scope.get("query_string", b""))
        except Refused as exc:
            _log.info("llmobserve proxy: %s %s refused: %s", method, scope["path"], exc)
            await _respond(send, exc.status, _error_body(exc.code, str(exc)))
            return
        except _ClientGone:
            return
        await self._forward(method, target, headers, body, receive, send)

    def _start_call(
        self, method: str, target: Target, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Any:
        ctx = _telemetry.incoming_context(headers)
        token = context.attach(ctx)
        try:
            provider = target.provider
            route = provider.match(method, target.path) if provider is not None else None
            if route is None:
                return _PlainCall(self._tracer, method, target)
            return ProviderCall(self._capture, provider, route, _request_view(method, target, body, headers))
        finally:
            context.detach(token)

    async def _forward(
        self,
        method: str,
        target: Target,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        receive: Any,
        send: Any,
    ) -> None:
        pool = self.pool
        if pool is None:  # served without lifespan (some test clients)
            self.open()
            pool = self.pool
            assert pool is not None
        call = self._start_call(method, target, headers, body)
        length = len(body) if body or method in _BODY_METHODS else None
        request = encode_request(
            method, target.target, upstream_request_headers(headers, target.authority, length), body
        )
        state = _State()
        task = asyncio.current_task()
        assert task is not None

        async def watch_disconnect() -> None:
            message = await receive()
            if message["type"] == "http.disconnect" and not state.done:
                state.disconnected = True
                task.cancel()

        watcher = asyncio.ensure_future(watch_disconnect())
        response: Response | None = None
        try:
            try:
                response = await pool.request(
                    method,
                    (target.scheme, target.host, target.port),
                    request,
                    connect_timeout=self.config.connect_timeout,
                    read_timeout=self.config.upstream_timeout,
                )
            except TIMEOUTS as exc:
                call.finish(complete=False, error=exc)
                await _respond(
                    send,
                    504,
                    _error_body("upstream_timeout", f"{target.authority} did not answer in time: {exc}"),
                )
                return
            except TargetRefused as exc:
                call.finish(complete=False, error=exc)
                await _respond(send, 403, _error_body("target_not_allowed", str(exc)))
                return
            except UpstreamError as exc:
                call.finish(complete=False, error=exc)
                await _respond(send, 502, _error_body("upstream_unavailable", f"{target.authority}: {exc}"))
                return
            await self._relay(call, response, send, state)
        except asyncio.CancelledError:
            if not state.disconnected:
                call.finish(complete=False, error=asyncio.CancelledError("proxy shutting down"))
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
            call.span.set_attribute(OUTCOME, "client_disconnected")
            call.finish(complete=False)
        finally:
            state.done = True
            watcher.cancel()
            if response is not None:
                # Mid-body this closes the upstream connection: the provider sees the request cancelled.
                await response.aclose()

    async def _relay(self, call: Any, response: Response, send: Any, state: _State) -> None:
        upstream_headers = response.headers
        observer = call.response(response.status, header_dict(upstream_headers))
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": client_response_headers(upstream_headers),
            }
        )
        try:
            async for chunk in response.aiter_stream():
                if observer is not None:
                    observer.feed(chunk)
                if response.drained:  # the last chunk: one send ends the body (most JSON answers)
                    state.done = True
                    await send({"type": "http.response.body", "body": chunk, "more_body": False})
                else:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamError as exc:
            call.span.set_attribute(OUTCOME, "upstream_failed_mid_body")
            call.finish(complete=False, error=exc)
            raise _Abort(f"upstream failed mid-body: {type(exc).__name__}") from None
        if not state.done:
            state.done = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        call.finish(complete=True)


class AbortFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for a connection the proxy cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _Abort))
