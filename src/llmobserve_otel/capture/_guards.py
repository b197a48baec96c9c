"""The `requests` guard: third-party marks and proxy routing; its provider usage is captured one layer down.

Requests to a host that is not internal run with `EXTERNAL_DESTINATION_KEY` set, so the stock
instrumentation's injected headers carry no baggage. `requests` is wrapped at `Session.send`
(outside the stock wrapper, which injects there). For a provider host, `requests` runs with the stock HTTP
span suppressed: the urllib3 capture underneath records the call as the one span, and no
propagation header is injected. With `LLMOBSERVE_PROXY_URL` set, a provider-host request is instead
pointed at the proxy (`_proxy_route`) and the stock span runs: its traceparent and baggage go to the
proxy (an internal host), whose provider-call span is the call's one span.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context
from opentelemetry.instrumentation.utils import _SUPPRESS_HTTP_INSTRUMENTATION_KEY

from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.hosts import is_internal
from llmobserve_otel._internal.priced import cover_current_span
from llmobserve_otel._internal.propagation import external_destination
from llmobserve_otel.capture._patch import unwrap_outermost, wrap_outermost
from llmobserve_otel.capture._proxy_route import ProxyRoute, configured, reroute_url


def _external(url: Any) -> bool:
    try:
        host = urlsplit(str(url)).hostname
    except ValueError:
        return True
    return not (host and is_internal(host))


def _provider_host(url: Any) -> bool:
    registry = REQUESTS.registry
    if registry is None:
        return False
    try:
        parts = urlsplit(str(url))
        return parts.hostname is not None and registry.lookup(parts.hostname, parts.port) is not None
    except Exception as exc:  # ValueError on a bad port; anything else is ours
        if not isinstance(exc, ValueError):
            report_internal_error("capture.requests.lookup", exc)
        return False


def _reroute_requests(request: Any, route: ProxyRoute) -> None:
    """Point a `requests.PreparedRequest` at the proxy in place (URL, Host header if set, token header)."""
    request.url = reroute_url(request.url, route)
    if "Host" in request.headers:  # a CaseInsensitiveDict
        request.headers["Host"] = route.authority
    for name, value in route.headers:
        request.headers[name] = value


def _wrap_requests_send(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    request = args[0] if args else kwargs.get("request")
    url = request.url if request is not None else None
    if url is not None and REQUESTS.proxy is not None and _provider_host(url):
        try:
            _reroute_requests(request, REQUESTS.proxy)
        except Exception as exc:  # fail open: the call goes direct and is captured at urllib3
            report_internal_error("capture.requests.proxy", exc)
        else:
            cover_current_span()  # the proxy's span prices this call; a GenAI span around it must not
            return wrapped(*args, **kwargs)  # to the proxy, an internal host: stock span and propagation
    with external_destination(url is not None and _external(url)):
        if url is None or not _provider_host(url):
            return wrapped(*args, **kwargs)
        token = context.attach(context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True))
        try:
            return wrapped(*args, **kwargs)
        finally:
            context.detach(token)


class Guard:
    """One wrapped attribute, installable and removable (only if still ours)."""

    def __init__(self, module: str, owner: str, attribute: str, wrapper: Any) -> None:
        self.module, self.owner, self.attribute, self.wrapper = module, owner, attribute, wrapper
        self._cls: Any = None
        self.registry: Any = None
        """The provider registry given at instrument time (requests uses it to spot provider hosts)."""
        self.proxy: ProxyRoute | None = None
        """`LLMOBSERVE_PROXY_URL`, read at instrument time (requests reroutes provider calls to it)."""

    @property
    def instrumented(self) -> bool:
        return self._cls is not None

    def instrument(self, registry: Any = None, *_: Any) -> bool:
        """Wrap so ours is outermost (again, if another instrumentation wrapped on top); idempotent."""
        if registry is not None:
            self.registry = registry
            self.proxy = configured()
        try:
            cls = getattr(importlib.import_module(self.module), self.owner)
        except (ImportError, AttributeError):
            return False
        wrap_outermost(cls, self.attribute, self.wrapper)
        self._cls = cls
        return True

    def uninstrument(self) -> None:
        cls = self._cls
        if cls is None:
            return
        unwrap_outermost(cls, self.attribute, self.wrapper)
        self._cls = None
        self.registry = None
        self.proxy = None


REQUESTS = Guard("requests", "Session", "send", _wrap_requests_send)
