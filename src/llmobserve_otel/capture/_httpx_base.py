"""Usage capture for httpx and its fork httpx2 (openai >= 3, anthropic >= 2), one base parametrized by module.

Wraps the transports' `handle_request` / `handle_async_request` (the SDKs and some clients call the
transport directly, and `Client.send` may read the body before returning). For a provider host:
suppression check, host match, span start, original call with the stock HTTP span suppressed (our
span replaces it, and nothing - no traceparent, no baggage - is injected into a provider request),
body wrap, provider parse. For a third-party host the stock instrumentation runs, minus baggage.
"""

from __future__ import annotations

import importlib
import sys
from functools import partial
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
)

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.hosts import is_internal
from llmobserve_otel._internal.priced import cover_current_span
from llmobserve_otel._internal.propagation import EXTERNAL_DESTINATION_KEY
from llmobserve_otel.capture._call import CaptureConfig, ProviderCall, RequestView, header_values
from llmobserve_otel.capture._patch import unwrap_outermost, wrap_outermost
from llmobserve_otel.capture._proxy_route import ProxyRoute, configured, reroute_httpx
from llmobserve_otel.providers import Registry

# Set while a request runs inside our wrapper: a second copy of the wrapper further in (left there
# when another instrumentation wrapped between two installs) passes the request straight through.
_IN_CAPTURE_KEY = context.create_key("llmobserve-in-capture")


def _stream_types(module: Any) -> tuple[type, type]:
    """Body wrappers subclassing the module's own stream bases (httpx checks them with isinstance)."""

    class ObservedStream(module.SyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, inner: Any, call: ProviderCall, observer: Any) -> None:
            self._inner = inner
            self._call = call
            self._observer = observer

        def __iter__(self) -> Any:
            observer, call = self._observer, self._call
            try:
                for chunk in self._inner:
                    if observer is not None:
                        observer.feed(chunk)
                    yield chunk
            except GeneratorExit:
                call.finish(complete=False)
                raise
            except BaseException as exc:
                call.finish(complete=False, error=exc)
                raise
            call.finish(complete=True)

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._call.finish(complete=False)

        def __del__(self) -> None:
            self._call.finish(complete=False)

    class AsyncObservedStream(module.AsyncByteStream):  # type: ignore[misc,name-defined]
        def __init__(self, inner: Any, call: ProviderCall, observer: Any) -> None:
            self._inner = inner
            self._call = call
            self._observer = observer

        async def __aiter__(self) -> Any:
            observer, call = self._observer, self._call
            try:
                async for chunk in self._inner:
                    if observer is not None:
                        observer.feed(chunk)
                    yield chunk
            except GeneratorExit:
                call.finish(complete=False)
                raise
            except BaseException as exc:
                call.finish(complete=False, error=exc)
                raise
            call.finish(complete=True)

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._call.finish(complete=False)

        def __del__(self) -> None:
            self._call.finish(complete=False)

    return ObservedStream, AsyncObservedStream


_stock_wrappers: frozenset[Any] = frozenset()
"""The stock OpenTelemetry httpx instrumentation's transport wrappers, once it is imported."""


def _past_stock(wrapped: Any) -> Any:
    """`wrapped` minus the stock httpx instrumentation's wrapper when that is the next one in.

    With HTTP instrumentation suppressed, as it is for every provider request here, that wrapper
    only calls through; the `functools.partial` of ten keywords it is installed as, and its
    context lookups, cost a provider call more than a dict lookup. Any other wrapper runs.
    """
    global _stock_wrappers
    wrapper = getattr(wrapped, "_self_wrapper", None)
    if type(wrapper) is not partial:
        return wrapped
    if not _stock_wrappers:
        stock = getattr(
            sys.modules.get("opentelemetry.instrumentation.httpx"), "_BaseHTTPXClientInstrumentor", None
        )
        names = ("_handle_request_wrapper", "_handle_async_request_wrapper")
        _stock_wrappers = frozenset(getattr(stock, name, None) for name in names) - {None}
    return wrapped.__wrapped__ if wrapper.func in _stock_wrappers else wrapped


def _request_view(
    request: Any, host: str, port: int | None, path: str, content_type: str | None
) -> RequestView:
    try:
        body: bytes | None = request.content
    except Exception:  # a streaming request body that was not read: model comes from the response
        body = _multipart_text_fields(request.stream)
    return RequestView(
        method=request.method,
        scheme=request.url.scheme,
        host=host,
        port=port,
        path=path,
        body=body,
        content_type=content_type,
    )


def _multipart_text_fields(stream: Any) -> bytes | None:
    """An unread multipart body's text fields (e.g. OpenAI transcription's `model`), re-encoded from
    the stream's field list without reading the stream; file parts are left out."""
    try:
        boundary, fields = stream.boundary, stream.fields
        parts = [
            b"--%s\r\n%s%s\r\n" % (boundary, field.render_headers(), field.render_data())
            for field in fields
            if type(field).__name__ == "DataField"
        ]
    except Exception:  # not a multipart stream
        return None
    return b"".join(parts) + b"--%s--\r\n" % boundary if parts else None


class HttpxCapture:
    """Instrument/uninstrument the transports of one httpx-like module (idempotent)."""

    def __init__(self, module_name: str) -> None:
        self.module_name = module_name
        self._module: Any = None
        self._registry: Registry | None = None
        self._config: CaptureConfig | None = None
        self._streams: tuple[type, type] | None = None
        self._proxy: ProxyRoute | None = None

    @property
    def instrumented(self) -> bool:
        return self._module is not None

    def _targets(self, module: Any) -> tuple[tuple[Any, str, Any], ...]:
        return (
            (module.HTTPTransport, "handle_request", self._wrap_sync),
            (module.AsyncHTTPTransport, "handle_async_request", self._wrap_async),
        )

    def instrument(self, registry: Registry, config: CaptureConfig) -> bool:
        """Wrap the transports so ours is the outermost wrapper; False when the module is not installed.

        Idempotent. Called again after another instrumentation wrapped on top, it wraps once more
        outside it; the copy left inside is inert (see `_IN_CAPTURE_KEY`).
        """
        try:
            module = importlib.import_module(self.module_name)
        except ImportError:
            return False
        if self._module is None:
            self._registry, self._config = registry, config
            self._streams = _stream_types(module)
            self._proxy = configured()
        for cls, name, wrapper in self._targets(module):
            wrap_outermost(cls, name, wrapper)
        self._module = module
        return True

    def uninstrument(self) -> None:
        module = self._module
        if module is None:
            return
        for cls, name, wrapper in self._targets(module):
            # Only our own outermost wrapper can be removed; one left deeper stays inert.
            unwrap_outermost(cls, name, wrapper)
        self._module = None

    def _begin(self, request: Any) -> tuple[ProviderCall | None, context.Context | None]:
        """Decide what to do with a request: (call, context to run the transport in)."""
        if self._module is None:
            return None, None
        parent = context.get_current()  # read once: each context.get_value reads it again
        if parent.get(_SUPPRESS_INSTRUMENTATION_KEY) or parent.get(_IN_CAPTURE_KEY):
            return None, None
        assert self._registry is not None and self._config is not None
        url = request.url
        host, port = url.host, url.port  # URL properties parse on every read: read each once
        provider = self._registry.lookup(host, port)
        if provider is None and is_internal(host):
            return None, None
        # Baggage written before the transport (the anthropic SDK injects its own trace headers
        # from the global propagator) must not leave for a third party either.
        baggage, content_type = header_values(request.headers, b"baggage", b"content-type")
        if baggage is not None:
            del request.headers["baggage"]
        # Contexts built with every key at once: context.set_value copies the whole context per key.
        if provider is None:
            return None, Context({**parent, _IN_CAPTURE_KEY: True, EXTERNAL_DESTINATION_KEY: True})
        if self._proxy is not None:
            # LLMOBSERVE_PROXY_URL: the proxy records the call, under the stock HTTP span. A GenAI
            # span around it (openai-v2, the SDK's own) is the same call: mark it, so it is not priced.
            reroute_httpx(request, self._proxy)
            cover_current_span(parent)
            return None, context.set_value(_IN_CAPTURE_KEY, True, parent)
        path = url.path
        route = provider.match(request.method, path)
        # Provider hosts get no propagation headers at all: suppress the stock HTTP span (ours replaces it).
        ctx = Context({**parent, _IN_CAPTURE_KEY: True, _SUPPRESS_HTTP_INSTRUMENTATION_KEY: True})
        if route is None:
            return None, ctx
        call = ProviderCall(
            self._config, provider, route, _request_view(request, host, port, path, content_type), parent
        )
        return call, trace.set_span_in_context(call.span, ctx)

    def _wrap_sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            call, ctx = self._begin(args[0] if args else kwargs["request"])
        except Exception as exc:
            report_internal_error("capture.httpx.begin", exc)
            return wrapped(*args, **kwargs)
        if ctx is None:
            return wrapped(*args, **kwargs)
        if call is not None:
            wrapped = _past_stock(wrapped)
        token = context.attach(ctx)
        try:
            response = wrapped(*args, **kwargs)
        except BaseException as exc:
            if call is not None:
                call.finish(complete=False, error=exc)
            raise
        finally:
            context.detach(token)
        if call is not None:
            self._observe(call, response, asynchronous=False)
        return response

    async def _wrap_async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            call, ctx = self._begin(args[0] if args else kwargs["request"])
        except Exception as exc:
            report_internal_error("capture.httpx.begin", exc)
            return await wrapped(*args, **kwargs)
        if ctx is None:
            return await wrapped(*args, **kwargs)
        if call is not None:
            wrapped = _past_stock(wrapped)
        token = context.attach(ctx)
        try:
            response = await wrapped(*args, **kwargs)
        except BaseException as exc:
            if call is not None:
                call.finish(complete=False, error=exc)
            raise
        finally:
            context.detach(token)
        if call is not None:
            self._observe(call, response, asynchronous=True)
        return response

    def _observe(self, call: ProviderCall, response: Any, *, asynchronous: bool) -> None:
        try:
            observer = call.response(response.status_code, response.headers)
            assert self._streams is not None
            wrapper = self._streams[1 if asynchronous else 0]
            response.stream = wrapper(response.stream, call, observer)
        except Exception as exc:
            call.finish(complete=False)
            report_internal_error("capture.httpx.response", exc)
