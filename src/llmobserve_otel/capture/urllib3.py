"""Usage capture at urllib3's connection pool (`HTTPConnectionPool.urlopen`).

botocore (every AWS API), `requests` (so voyageai, pinecone REST, ...) and elastic-transport all
send through it. Same rules as `_httpx_base.py`: suppression check, host match with early exit,
our span replaces the stock HTTP span for provider hosts (nothing injected into their requests),
the body observed as it passes, the span ended exactly once, fail-open.

The body is observed at urllib3's raw layer (`_raw_read`, and `_handle_chunk` for chunked
bodies), on the response instance only: every way the app reads (`read`, `stream`, `read_chunked`,
`data`, `drain_conn`, iteration) goes through it, and nothing is read ahead. Raw means still
content-encoded; the body observer decodes its own copy. A preloaded body (`preload_content=True`,
urllib3's default) was read before `urlopen` returned: it is fed whole.

The pool's `urlopen` retries and follows same-host redirects by calling itself: the inner calls
run inside ours and pass straight through, so a call with retries is still one span (the final
response's). With `LLMOBSERVE_PROXY_URL` set, a provider-host request is sent to the proxy instead
(`_proxy_route`, explicit-target form, on a pool of our own) with traceparent and baggage for the
proxy (an internal host), which records the call's one span; no span is made here. A provider module may define `match_request(method, path, headers)`: APIs that name
their operation in a header (AWS JSON 1.1 `X-Amz-Target`) are matched by it instead of `match`.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
)

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.hosts import is_internal
from llmobserve_otel._internal.priced import cover_current_span
from llmobserve_otel._internal.propagation import EXTERNAL_DESTINATION_KEY
from llmobserve_otel.capture._call import ProviderCall, RequestView
from llmobserve_otel.capture._patch import MethodCapture
from llmobserve_otel.capture._proxy_route import ProxyRoute, reroute_url
from llmobserve_otel.providers import Route

_IN_CAPTURE_KEY = context.create_key("llmobserve-in-urllib3-capture")
# Positions in `HTTPConnectionPool.urlopen(method, url, body, headers, ...)`, self excluded.
_METHOD, _URL, _BODY, _HEADERS = 0, 1, 2, 3
_PROPAGATION_HEADERS = ("baggage", "traceparent", "tracestate")


# (call, context to run urlopen in, args, kwargs, what to call instead of the pool's urlopen)
_Plan = tuple[
    ProviderCall | None,
    context.Context | None,
    tuple[Any, ...],
    dict[str, Any],
    Callable[..., Any] | None,
]


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def header(headers: Any, name: str) -> str | None:
    """`name` (lower case) from a case-insensitive mapping or a plain dict of any case."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value  # type: ignore[no-any-return]


def route_for(provider: Any, method: str, path: str, headers: Any) -> Route | None:
    """The provider's route: by `match_request` (header-named operations) when it has one, else `match`."""
    match_request = getattr(provider, "match_request", None)
    if match_request is not None:
        return match_request(method, path, _LowerHeaders(headers))  # type: ignore[no-any-return]
    return provider.match(method, path)  # type: ignore[no-any-return]


class _LowerHeaders(Mapping[str, str]):
    """Request headers as a read-only mapping with lower-case names (what provider modules read)."""

    def __init__(self, headers: Any) -> None:
        self._items: dict[str, str] = {}
        for key, value in (headers or {}).items():
            name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
            self._items[name.lower()] = value.decode("latin-1") if isinstance(value, bytes) else str(value)

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _without_propagation(headers: Any) -> Any:
    """A copy of `headers` without trace-context headers, or `headers` itself when it has none."""
    if not headers or not any(header(headers, name) is not None for name in _PROPAGATION_HEADERS):
        return headers
    kept = type(headers)() if isinstance(headers, dict) else {}
    for key, value in headers.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else key
        if name.lower() not in _PROPAGATION_HEADERS:
            kept[key] = value
    return kept


def _request_view(pool: Any, method: str, url: str, body: Any, headers: Any) -> RequestView:
    parts = urlsplit(url)
    if isinstance(body, str):
        body = body.encode()
    return RequestView(
        method=method.upper(),
        scheme=parts.scheme or pool.scheme,
        host=parts.hostname or pool.host,
        port=parts.port if parts.hostname else pool.port,
        path=parts.path or "/",
        body=bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else None,
        content_type=header(headers, "content-type"),
    )


class Urllib3Capture(MethodCapture):
    """Instrument/uninstrument `urllib3.HTTPConnectionPool.urlopen` (idempotent)."""

    def __init__(self) -> None:
        super().__init__("urllib3.connectionpool", "HTTPConnectionPool", "urlopen")
        self._proxy_pools: Any = None  # a PoolManager for the proxy, made on first use

    def _begin(self, pool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Plan:
        """What to do with one `urlopen`: None context means pass straight through."""
        if (
            self._cls is None
            or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY)
            or context.get_value(_IN_CAPTURE_KEY)
        ):
            return None, None, args, kwargs, None
        assert self._registry is not None and self._config is not None
        method, url = _arg(args, kwargs, _METHOD, "method"), _arg(args, kwargs, _URL, "url")
        headers = _arg(args, kwargs, _HEADERS, "headers")
        if headers is None:
            headers = pool.headers
        parts = urlsplit(url)
        host = parts.hostname or pool.host
        provider = self._registry.lookup(host, parts.port if parts.hostname else pool.port)
        if provider is None and is_internal(host):
            return None, None, args, kwargs, None
        ctx = context.set_value(_IN_CAPTURE_KEY, True)
        if provider is None:
            return None, context.set_value(EXTERNAL_DESTINATION_KEY, True, ctx), args, kwargs, None
        if self._proxy is not None:  # LLMOBSERVE_PROXY_URL: the proxy records the call
            return self._via_proxy(pool, self._proxy, ctx, args, kwargs)
        # Provider hosts get no propagation headers (some callers add them before urlopen) and no stock span.
        cleaned = _without_propagation(headers)
        if cleaned is not headers:
            if len(args) > _HEADERS:
                args = (*args[:_HEADERS], cleaned, *args[_HEADERS + 1 :])
            else:
                kwargs = {**kwargs, "headers": cleaned}
        ctx = context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, ctx)
        path = parts.path or "/"
        route = route_for(provider, method.upper(), path, cleaned)
        if route is None:
            return None, ctx, args, kwargs, None
        view = _request_view(pool, method, url, _arg(args, kwargs, _BODY, "body"), cleaned)
        call = ProviderCall(self._config, provider, route, view)
        return call, trace.set_span_in_context(call.span, ctx), args, kwargs, None

    def _via_proxy(
        self,
        pool: Any,
        route: ProxyRoute,
        ctx: context.Context,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> _Plan:
        """The same `urlopen` on a pool for the proxy, aimed at the original URL in explicit-target form."""
        method, url = _arg(args, kwargs, _METHOD, "method"), _arg(args, kwargs, _URL, "url")
        parts = urlsplit(url)
        if parts.hostname:  # an absolute URL (a forward proxy's pool): it names the provider itself
            original = url
        else:
            authority = f"[{pool.host}]" if ":" in pool.host else pool.host
            port = f":{pool.port}" if pool.port else ""
            original = f"{pool.scheme}://{authority}{port}{url}"
        proxied = reroute_url(original, route)
        if self._proxy_pools is None:
            self._proxy_pools = importlib.import_module("urllib3").PoolManager()
        proxy_pool = self._proxy_pools.connection_from_url(proxied)
        moved = urlsplit(proxied)
        target = moved.path + (f"?{moved.query}" if moved.query else "")
        headers = importlib.import_module("urllib3").HTTPHeaderDict(
            _without_propagation(_arg(args, kwargs, _HEADERS, "headers") or pool.headers) or {}
        )
        if "host" in headers:
            headers["Host"] = route.authority
        for name, value in route.headers:
            headers[name] = value
        propagate.inject(headers)  # to the proxy, an internal host: trace context and baggage go along
        cover_current_span()  # the proxy's span prices this call; a GenAI span around it must not
        rest = {k: v for k, v in kwargs.items() if k not in ("method", "url", "body", "headers")}
        args = (method, target, _arg(args, kwargs, _BODY, "body"), headers, *args[_HEADERS + 1 :])
        return None, ctx, args, rest, proxy_pool.urlopen

    def _wrap(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            call, ctx, args, kwargs, send = self._begin(instance, args, kwargs)
        except Exception as exc:
            report_internal_error("capture.urllib3.begin", exc)
            return wrapped(*args, **kwargs)
        if ctx is None:
            return wrapped(*args, **kwargs)
        token = context.attach(ctx)
        try:
            response = (send or wrapped)(*args, **kwargs)
        except BaseException as exc:
            if call is not None:
                call.finish(complete=False, error=exc)
            raise
        finally:
            context.detach(token)
        if call is not None:
            try:
                _observe(call, response)
            except Exception as exc:
                call.finish(complete=False)
                report_internal_error("capture.urllib3.response", exc)
        return response


def _observe(call: ProviderCall, response: Any) -> None:
    headers = response.headers
    preloaded = getattr(response, "_body", None)
    if preloaded is not None:
        if response.decode_content and "content-encoding" in headers:
            # urllib3 already decoded the preloaded body: the observer must not decode it again.
            headers = headers.copy()
            del headers["content-encoding"]
        observer = call.response(response.status, headers)
        if observer is not None:
            observer.feed(bytes(preloaded))
        call.finish(complete=True)
        return
    observer = call.response(response.status, headers)
    if not hasattr(response, "_raw_read"):  # not urllib3 2's HTTPResponse: head only
        call.finish(complete=False)
        return
    _hook_response(response, call, observer)


def _hook_response(response: Any, call: ProviderCall, observer: Any) -> None:
    """Observe this response's raw body reads and ends; instance attributes, so other responses pay nothing.

    The wrappers hold the response weakly and call the class's methods: no reference cycle, so an
    unread response dropped by the app is freed (and its span ended) as promptly as without us.
    """
    cls = type(response)
    raw_read = cls._raw_read
    handle_chunk = getattr(cls, "_handle_chunk", None)
    update_chunk_length = getattr(cls, "_update_chunk_length", None)
    release_conn, close = cls.release_conn, cls.close
    ref = weakref.ref(response)

    # urllib3 releases the connection from inside the read that reaches EOF, before that read's
    # bytes reach us: a release or close during a read leaves the ending to the read.
    reading = [False]

    def feed(data: bytes) -> None:
        if data and observer is not None:
            observer.feed(data)

    def _raw_read(amt: int | None = None, *args: Any, **kwargs: Any) -> Any:
        this = ref()
        reading[0] = True
        try:
            data = raw_read(this, amt, *args, **kwargs)
        except BaseException as exc:
            call.finish(complete=False, error=exc)
            raise
        finally:
            reading[0] = False
        feed(data)
        remaining = this.length_remaining
        read1 = kwargs.get("read1", False)
        if (
            (amt is None and not read1)
            or (not data and amt != 0)
            or (remaining is not None and remaining <= 0)
        ):
            call.finish(complete=True)
        return data

    def _handle_chunk(amt: int | None) -> bytes:
        try:
            data: bytes = handle_chunk(ref(), amt)  # type: ignore[misc]
        except BaseException as exc:
            call.finish(complete=False, error=exc)
            raise
        feed(data)
        return data

    def _update_chunk_length() -> None:
        this = ref()
        try:
            update_chunk_length(this)  # type: ignore[misc]
        except BaseException as exc:
            call.finish(complete=False, error=exc)
            raise
        if this.chunk_left == 0:  # the last chunk: the body is complete
            call.finish(complete=True)

    def _release_conn() -> Any:
        try:
            return release_conn(ref())
        finally:
            if not reading[0]:
                call.finish(complete=False)

    def _close() -> Any:
        try:
            return close(ref())
        finally:
            if not reading[0]:
                call.finish(complete=False)

    response._raw_read = _raw_read
    if handle_chunk is not None and update_chunk_length is not None:
        response._handle_chunk = _handle_chunk
        response._update_chunk_length = _update_chunk_length
    response.release_conn = _release_conn
    response.close = _close
    # A response dropped unread still ends its span (when freed).
    weakref.finalize(response, call.finish, complete=False)


CAPTURE = Urllib3Capture()
