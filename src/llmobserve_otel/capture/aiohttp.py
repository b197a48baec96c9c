"""Usage capture for aiohttp's client (google-genai, voyageai, algolia and twilio async clients).

Wraps `ClientSession._request`, the one coroutine every request method goes through. For a
provider host: one CLIENT span (`ProviderCall`) with the stock aiohttp-client span suppressed, so no
traceparent or baggage is injected; the body is observed as aiohttp's protocol feeds it into the
response's `StreamReader` (the reader's class is swapped for a subclass adding no state, so the
bytes the app reads are the same objects, read once), and the span ends at the body's EOF, on a
connection error, or when the response is garbage-collected unread. Other hosts only get the
third-party mark (no baggage to hosts that are not internal).

With `LLMOBSERVE_PROXY_URL` set, provider requests go to the proxy instead (as for httpx): the
stock aiohttp span runs and is the proxy span's parent, and no provider span is recorded here.
"""

from __future__ import annotations

import importlib
import json
import weakref
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import (
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY,
    _SUPPRESS_INSTRUMENTATION_KEY,
)

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.hosts import is_internal
from llmobserve_otel._internal.priced import cover_current_span
from llmobserve_otel._internal.propagation import external_destination
from llmobserve_otel.capture._body import BodyObserver
from llmobserve_otel.capture._call import ProviderCall, RequestView
from llmobserve_otel.capture._patch import MethodCapture
from llmobserve_otel.capture._proxy_route import ProxyRoute, reroute_url

# id(StreamReader) -> what observes it; entries leave at EOF, on error, or when the response is freed.
_observed: dict[int, tuple[ProviderCall, BodyObserver | None]] = {}


def _done(reader_id: int, *, complete: bool, error: BaseException | None = None) -> None:
    entry = _observed.pop(reader_id, None)
    if entry is not None:
        entry[0].finish(complete=complete, error=error)


def _observed_reader_type(base: type, released: BaseException | None) -> type:
    class ObservedStreamReader(base):  # type: ignore[misc,valid-type]
        __slots__ = ()  # same layout as the base, so an instance's class can be swapped

        def feed_data(self, data: bytes, *args: Any, **kwargs: Any) -> Any:
            entry = _observed.get(id(self))
            if entry is not None and entry[1] is not None and data:
                try:
                    entry[1].feed(data)
                except Exception as exc:  # never in the way of the app's bytes
                    report_internal_error("capture.aiohttp.feed", exc)
            return super().feed_data(data, *args, **kwargs)

        def feed_eof(self) -> None:
            super().feed_eof()
            _done(id(self), complete=True)

        def set_exception(self, exc: BaseException, *args: Any, **kwargs: Any) -> None:
            super().set_exception(exc, *args, **kwargs)
            # The app releasing a response it did not read to the end is not a failed call.
            _done(id(self), complete=False, error=None if exc is released else exc)

    return ObservedStreamReader


def _request_body(kwargs: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """The request body as bytes and its content type, from `_request`'s `data` / `json` arguments."""
    payload = kwargs.get("json")
    if payload is not None:
        return json.dumps(payload).encode(), "application/json"
    data = kwargs.get("data")
    headers = kwargs.get("headers") or {}
    content_type = next((v for k, v in headers.items() if str(k).lower() == "content-type"), None)
    if isinstance(data, str):
        return data.encode(), content_type
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), content_type
    if isinstance(data, dict):
        return urlencode(data).encode(), "application/x-www-form-urlencoded"
    return None, content_type  # FormData, streams: not read (model comes from the response)


def _without_baggage(headers: Any) -> Any:
    if isinstance(headers, dict) and any(str(k).lower() == "baggage" for k in headers):
        return {k: v for k, v in headers.items() if str(k).lower() != "baggage"}
    return headers


@dataclass
class _Plan:
    url: Any
    provider_host: bool = False
    call: ProviderCall | None = None
    proxied: tuple[Any, dict[str, Any]] | None = None
    """(args, kwargs) of the same request aimed at the proxy, when LLMOBSERVE_PROXY_URL is set."""


def _rerouted(args: Any, kwargs: dict[str, Any], url: Any, route: ProxyRoute) -> tuple[Any, dict[str, Any]]:
    """The `_request` arguments of the same request sent to the proxy (URL, Host header, token)."""
    target = reroute_url(str(url), route)
    args, kwargs = tuple(args), dict(kwargs)
    if len(args) > 1:
        args = (args[0], target, *args[2:])
    else:
        kwargs["str_or_url"] = target
    # aiohttp takes any mapping or pairs as headers; its own multidict keeps repeated names.
    headers = importlib.import_module("multidict").CIMultiDict(kwargs.get("headers") or {})
    if headers.popall("host", None) is not None:
        headers["Host"] = route.authority
    headers.extend(route.headers)
    kwargs["headers"] = headers
    return args, kwargs


class AiohttpCapture(MethodCapture):
    """Instrument/uninstrument `aiohttp.ClientSession._request` (idempotent, outermost)."""

    def __init__(self) -> None:
        super().__init__("aiohttp", "ClientSession", "_request")
        self._reader_type: type | None = None

    def _prepare(self) -> None:
        if self._reader_type is None:
            # What `ClientResponse.release()` sets on an unread body (a private sentinel; None if renamed).
            released = getattr(
                importlib.import_module("aiohttp.client_reqrep"), "_CONNECTION_CLOSED_EXCEPTION", None
            )
            streams = importlib.import_module("aiohttp.streams")
            self._reader_type = _observed_reader_type(streams.StreamReader, released)

    def _plan(self, session: Any, args: Any, kwargs: dict[str, Any]) -> _Plan:
        """What to do with one request: pass it through, reroute it to the proxy, or capture it."""
        url = session._build_url(args[1] if len(args) > 1 else kwargs["str_or_url"])
        if self._registry is None or self._config is None or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY):
            return _Plan(url)
        provider = self._registry.lookup(url.host or "", url.explicit_port)
        if provider is None:
            return _Plan(url)
        if self._proxy is not None:
            return _Plan(url, provider_host=True, proxied=_rerouted(args, kwargs, url, self._proxy))
        method = str(args[0] if args else kwargs["method"]).upper()
        route = provider.match(method, url.path)
        if route is None:
            return _Plan(url, provider_host=True)
        body, content_type = _request_body(kwargs)
        view = RequestView(
            method=method,
            scheme=url.scheme,
            host=url.host or "",
            port=url.explicit_port,
            path=url.path,
            body=body,
            content_type=content_type,
        )
        return _Plan(url, provider_host=True, call=ProviderCall(self._config, provider, route, view))

    async def _wrap(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            plan = self._plan(instance, args, kwargs)
        except Exception as exc:
            report_internal_error("capture.aiohttp.begin", exc)
            return await wrapped(*args, **kwargs)
        url, call = plan.url, plan.call
        if plan.proxied is not None:
            # LLMOBSERVE_PROXY_URL: the proxy records the call, under the stock aiohttp span, which
            # (the proxy being internal) carries traceparent and baggage. A GenAI span around it is
            # the same call: mark it so it is not priced too.
            cover_current_span()
            args, kwargs = plan.proxied
            return await wrapped(*args, **kwargs)
        if not plan.provider_host:
            with external_destination(not (url.host and is_internal(url.host))):
                return await wrapped(*args, **kwargs)
        # A provider host: no stock span, no propagation headers; ours (if billable) is the call's span.
        kwargs["headers"] = _without_baggage(kwargs.get("headers"))
        ctx = context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True)
        if call is not None:
            ctx = trace.set_span_in_context(call.span, ctx)
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
            self._observe(call, instance, kwargs, response)
        return response

    def _observe(self, call: ProviderCall, session: Any, kwargs: dict[str, Any], response: Any) -> None:
        try:
            headers = {k.lower(): v for k, v in response.headers.items()}
            decompress = kwargs.get("auto_decompress")
            if decompress is None:
                decompress = getattr(session, "auto_decompress", True)
            if decompress:
                headers.pop("content-encoding", None)  # aiohttp inflates before the reader sees the bytes
            observer = call.response(response.status, headers)
            reader = response.content
            assert self._reader_type is not None
            if type(reader) is not self._reader_type.__base__:
                # EmptyStreamReader (no body) or a reader we do not know: nothing to follow.
                call.finish(complete=True)
                return
            offset = reader._buffer_offset
            for index, chunk in enumerate(list(reader._buffer)):  # arrived with the head, not yet read
                if observer is not None:
                    observer.feed(chunk[offset:] if index == 0 and offset else chunk)
            if reader.is_eof() or reader.exception() is not None:
                call.finish(complete=reader.exception() is None, error=reader.exception())
                return
            _observed[id(reader)] = (call, observer)
            reader.__class__ = self._reader_type
            weakref.finalize(response, _done, id(reader), complete=False)
        except Exception as exc:
            call.finish(complete=False)
            report_internal_error("capture.aiohttp.response", exc)


CAPTURE = AiohttpCapture()
