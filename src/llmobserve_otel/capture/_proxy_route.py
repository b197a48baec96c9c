"""Automatic routing through the llmobserve proxy: `LLMOBSERVE_PROXY_URL` set in the app.

A request for a provider host is rewritten to the proxy's explicit-target form
(`{proxy}/_/{scheme}/{host[:port]}{path}?{query}`, see `llmobserve_otel.proxy`), so the original
URL travels in the path and the proxy forwards it unchanged. The in-process capture then records
no provider span of its own: the stock HTTP client span runs, and its traceparent and baggage go
to the proxy (an internal host, see `_internal/hosts.py`), whose provider-call span becomes its
child. One provider-call span per call, whichever way the call goes.

Hook for other client captures (urllib3/requests, aiohttp, ...): call `configured()` once at
instrument time; for a request to a provider host, `reroute_url(url, route)` (or, with parsed
parts, `route.rewrite(scheme, host, port, raw_target)`) gives the proxy URL and `route.headers` the
headers to add (set Host to `route.authority` if the client fixed one); then let the stock
instrumentation run without creating a `ProviderCall`. `reroute_httpx` does all of it for httpx.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_log = logging.getLogger("llmobserve_otel")

ENV_URL = "LLMOBSERVE_PROXY_URL"
ENV_TOKEN = "LLMOBSERVE_PROXY_TOKEN"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ProxyRoute:
    """Where the proxy listens, and how a provider URL becomes a proxy URL."""

    scheme: str
    host: str
    port: int
    base_path: str
    headers: tuple[tuple[str, str], ...] = ()
    """Added to every routed request (the proxy token); the proxy strips them before forwarding."""

    @classmethod
    def parse(cls, url: str, token: str | None = None) -> ProxyRoute:
        parts = urlsplit(url.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"{ENV_URL}={url!r}: expected http(s)://host[:port][/base-path]")
        headers = (("Proxy-Authorization", f"Bearer {token}"),) if token else ()
        return cls(
            parts.scheme,
            parts.hostname,
            parts.port or _DEFAULT_PORTS[parts.scheme],
            parts.path.rstrip("/"),
            headers,
        )

    def rewrite(
        self, scheme: str, host: str, port: int | None, raw_target: bytes
    ) -> tuple[str, str, int, bytes]:
        """(scheme, host, port, raw path+query) of the proxy request carrying the original URL."""
        authority = f"[{host}]" if ":" in host else host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            authority = f"{authority}:{port}"
        prefix = f"{self.base_path}/_/{scheme}/{authority}".encode("ascii")
        return self.scheme, self.host, self.port, prefix + (raw_target or b"/")

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def configured() -> ProxyRoute | None:
    """The route from the environment; None when `LLMOBSERVE_PROXY_URL` is unset or malformed (logged)."""
    url = os.environ.get(ENV_URL, "").strip()
    if not url:
        return None
    try:
        return ProxyRoute.parse(url, os.environ.get(ENV_TOKEN) or None)
    except ValueError as exc:  # fail open: calls go direct and are captured in process
        _log.warning("llmobserve: %s; provider calls are not routed through the proxy", exc)
        return None


def reroute_url(url: str, route: ProxyRoute) -> str:
    """The proxy URL carrying `url` (for clients that take a URL string: urllib3, requests, aiohttp).

    The caller also sets the Host header to `route.authority` if it set one, and adds `route.headers`.
    """
    parts = urlsplit(url)
    raw_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = (parts.hostname or "").encode("idna").decode("ascii")
    scheme, _, _, target = route.rewrite(parts.scheme, host, parts.port, raw_target.encode("ascii"))
    return f"{scheme}://{route.authority}{target.decode('ascii')}"


def reroute_httpx(request: Any, route: ProxyRoute) -> None:
    """Point an httpx/httpx2 request at the proxy in place (URL, Host header, token header)."""
    url = request.url
    host = url.raw_host.decode("ascii")  # IDNA-encoded, as on the wire
    scheme, host, port, raw_path = route.rewrite(url.scheme, host, url.port, url.raw_path)
    request.url = url.copy_with(scheme=scheme, host=host, port=port, raw_path=raw_path)
    request.headers["Host"] = route.authority
    for name, value in route.headers:
        request.headers[name] = value
