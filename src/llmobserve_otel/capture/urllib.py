"""Usage capture for the standard library's `urllib.request` (sendgrid's python_http_client, raw `urlopen`).

Wraps `OpenerDirector.open`, which `urlopen` and every `build_opener()` opener go through, outside the
handlers (and outside the stock `opentelemetry-instrumentation-urllib`, which wraps `_open` inside it).
Same rules as `_httpx_base.py`: suppression check, host match with early exit, our span replaces the
stock HTTP span for provider hosts (nothing is injected into their requests), the body observed as
the app reads it, the span ended exactly once, fail-open.

Redirects re-enter `open` from inside the handlers: those inner calls pass straight through, so a
redirected call is one span. A refused call (HTTP >= 400) surfaces as `HTTPError` from `open`; it is
not billed, so its span ends there. A successful response is returned inside a transparent proxy
(`wrapt.ObjectProxy`: same class for `isinstance`, same attributes) whose read methods pass every
byte through unchanged, copy it to the body observer, and end the span at EOF or close.
`LLMOBSERVE_PROXY_URL` does not reroute urllib requests: they are captured here, in process, once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import wrapt
from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
)

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.hosts import is_internal
from llmobserve_otel._internal.propagation import EXTERNAL_DESTINATION_KEY
from llmobserve_otel.capture._call import ProviderCall, RequestView
from llmobserve_otel.capture._patch import MethodCapture

_IN_CAPTURE_KEY = context.create_key("llmobserve-in-urllib-capture")
_FORM = "application/x-www-form-urlencoded"  # what urllib sends a body as when the caller names no type


def _request_view(request: Any, data: Any) -> RequestView:
    """Method, URL parts and body of `open`'s arguments (a URL string or a `Request`)."""
    if isinstance(request, str):
        url, method, headers = request, "POST" if data is not None else "GET", {}
        body = data
    else:
        url, method = request.full_url, request.get_method()
        body = data if data is not None else request.data
        headers = {k.lower(): v for k, v in request.header_items()}
        if data is not None and request.data is None:
            method = "POST"  # `open(req, data)` sets the body, which makes urllib POST
    parts = urlsplit(url)
    content_type = headers.get("content-type")
    if body is not None and content_type is None:
        content_type = _FORM
    return RequestView(
        method=method.upper(),
        scheme=parts.scheme,
        host=parts.hostname or "",
        port=parts.port,
        path=parts.path or "/",
        body=bytes(body) if isinstance(body, (bytes, bytearray, memoryview)) else None,
        content_type=content_type,
    )


class ObservedResponse(wrapt.ObjectProxy):  # type: ignore[misc]
    """The response, read through: each chunk goes to the app unchanged and to the observer."""

    def __init__(self, wrapped: Any, call: ProviderCall, observer: Any) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_observer = observer

    def _self_pass(self, data: Any, asked_all: bool) -> Any:
        """Observe what one read returned; end the span at EOF."""
        try:
            if data and self._self_observer is not None:
                self._self_observer.feed(bytes(data))
            if not data or asked_all or self.__wrapped__.isclosed():
                self._self_call.finish(complete=True)
        except Exception as exc:
            report_internal_error("capture.urllib.read", exc)
        return data

    def _self_call_through(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.__wrapped__, name)(*args, **kwargs)
        except BaseException as exc:
            self._self_call.finish(complete=False, error=exc)
            raise

    def read(self, amt: int | None = None) -> bytes:
        data = self._self_call_through("read", amt)
        return self._self_pass(data, amt is None or amt < 0)  # type: ignore[no-any-return]

    def read1(self, n: int = -1) -> bytes:
        return self._self_pass(self._self_call_through("read1", n), False)  # type: ignore[no-any-return]

    def readline(self, limit: int = -1) -> bytes:
        return self._self_pass(self._self_call_through("readline", limit), False)  # type: ignore[no-any-return]

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        size = 0
        while line := self.readline():
            lines.append(line)
            size += len(line)
            if 0 < hint <= size:
                break
        return lines

    def readinto(self, buffer: Any) -> int:
        count = self._self_call_through("readinto", buffer)
        self._self_pass(memoryview(buffer)[:count] if count else b"", False)
        return count  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_call.finish(complete=False)

    def __enter__(self) -> ObservedResponse:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self._self_call.finish(complete=False)


class UrllibCapture(MethodCapture):
    """Instrument/uninstrument `urllib.request.OpenerDirector.open` (idempotent)."""

    def __init__(self) -> None:
        super().__init__("urllib.request", "OpenerDirector", "open")

    def _begin(self, args: Any, kwargs: Any) -> tuple[ProviderCall | None, context.Context | None]:
        if (
            self._cls is None
            or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY)
            or context.get_value(_IN_CAPTURE_KEY)
        ):
            return None, None
        assert self._registry is not None and self._config is not None
        fullurl = args[0] if args else kwargs["fullurl"]
        data = args[1] if len(args) > 1 else kwargs.get("data")
        request = _request_view(fullurl, data)
        provider = self._registry.lookup(request.host, request.port)
        if provider is None and is_internal(request.host):
            return None, None
        ctx = context.set_value(_IN_CAPTURE_KEY, True)
        if provider is None:
            return None, context.set_value(EXTERNAL_DESTINATION_KEY, True, ctx)
        ctx = context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True, ctx)
        route = provider.match(request.method, request.path)
        if route is None:
            return None, ctx
        call = ProviderCall(self._config, provider, route, request)
        return call, trace.set_span_in_context(call.span, ctx)

    def _wrap(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            call, ctx = self._begin(args, kwargs)
        except Exception as exc:
            report_internal_error("capture.urllib.begin", exc)
            return wrapped(*args, **kwargs)
        if ctx is None:
            return wrapped(*args, **kwargs)
        token = context.attach(ctx)
        try:
            response = wrapped(*args, **kwargs)
        except BaseException as exc:
            if call is not None:
                _refused(call, exc)
            raise
        finally:
            context.detach(token)
        if call is None:
            return response
        try:
            observer = call.response(response.status, response.headers)
            return ObservedResponse(response, call, observer)
        except Exception as exc:
            call.finish(complete=False)
            report_internal_error("capture.urllib.response", exc)
            return response


def _refused(call: ProviderCall, exc: BaseException) -> None:
    """`HTTPError` is an answer (not billed, span marked by its status); anything else is a failure."""
    code = getattr(exc, "code", None)
    headers = getattr(exc, "headers", None)
    if isinstance(code, int) and headers is not None:
        try:
            call.response(code, headers)
        except Exception as inner:
            report_internal_error("capture.urllib.error", inner)
        call.finish(complete=True)
    else:
        call.finish(complete=False, error=exc)


CAPTURE = UrllibCapture()
