"""Where a proxied request goes: the two URL forms, the provider routes and the allowlist (pure).

```
/{provider}/{path}?{query}              -> the provider's API host (first non-wildcard HOSTS entry),
                                           or the `--upstream provider=URL` override
/_/{scheme}/{host[:port]}/{path}?{query} -> scheme://host[:port]/path?query, when host is a provider
                                           host (also `*.wildcard` ones) or on the allowlist
```

Paths and query strings travel as the client sent them (raw bytes, never re-encoded). A target is
`trusted` when the operator named it explicitly (`--upstream`, `LLMOBSERVE_PROVIDER_HOSTS`): only
then may it resolve to a loopback, private or link-local address (see `_network`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from llmobserve_otel.providers import PROVIDERS, Registry, load, loaded, parse_host_mappings

EXPLICIT_PREFIX = b"/_/"
_SCHEMES = {b"http": ("http", 80), b"https": ("https", 443)}


@dataclass(frozen=True)
class Upstream:
    """A base URL requests are forwarded to (`path` is prepended to the client's path)."""

    scheme: str
    host: str
    port: int
    path: bytes = b""

    @classmethod
    def parse(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream {url!r}: expected http(s)://host[:port][/base-path]")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/").encode())


@dataclass(frozen=True)
class Target:
    """One resolved request target."""

    scheme: str
    host: str
    port: int
    target: bytes
    """Path and query, raw, as the upstream request line carries them."""
    path: str
    """Path only (no query: some APIs take keys there), for span attributes and route matching."""
    provider: Any | None
    """The provider module that knows this API, or None for another allowlisted HTTP API."""

    @property
    def authority(self) -> str:
        """`host[:port]` as the Host header and URLs carry it (IPv6 in brackets, default port left out)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"


class Refused(Exception):
    """The request has no target the proxy may forward to: `status` and a message for the client."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _host_matches(pattern: str, host: str, port: int) -> bool:
    """Allowlist entry `pattern` (`api.example.com`, `*.example.com`, `host:port`, `[v6]:port`) matches."""
    if pattern.count(":") == 1 or (pattern.startswith("[") and "]:" in pattern):
        pattern, _, pattern_port = pattern.rpartition(":")
        if pattern_port != str(port):
            return False
    pattern = pattern.strip("[]")
    return fnmatchcase(host, pattern) if "*" in pattern else host == pattern


# A DNS name or an IP literal (IPv6 without brackets, as urlsplit returns it).
_VALID_HOST = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$|^[0-9a-f:.]+$")


class Targets:
    """The routing table, built once: provider routes, provider hosts, overrides and the allowlist."""

    def __init__(
        self,
        *,
        upstreams: Mapping[str, str] | None = None,
        allow_hosts: Iterable[str] = (),
        provider_hosts: str | None = None,
    ) -> None:
        self.routes: dict[bytes, tuple[Upstream, Any]] = {}
        self.registry = Registry(provider_hosts)
        self.trusted: set[tuple[str, int]] = set()
        self.trusted_hosts: set[str] = set()
        for name, module in loaded().items():
            fixed = [host.lower() for host in module.HOSTS if "*" not in host]
            if fixed:
                self.routes[name.encode()] = (Upstream.parse(f"https://{fixed[0]}"), module)
        for host, _name in parse_host_mappings(provider_hosts or ""):
            # Declared by the operator for self-hosted or compatible endpoints: trusted, private or not.
            name_part, _, port = host.rpartition(":")
            if port.isdigit() and name_part:
                self.trusted.add((name_part.strip("[]"), int(port)))
            else:
                self.trusted_hosts.add(host)
        for name, url in (upstreams or {}).items():
            if name not in PROVIDERS:
                raise ValueError(f"--upstream {name}=...: unknown provider (one of {', '.join(PROVIDERS)})")
            upstream = Upstream.parse(url)
            self.routes[name.encode()] = (upstream, load(name))
            self.registry.add(f"{upstream.host}:{upstream.port}", name)
            self.trusted.add((upstream.host, upstream.port))
        self.allow = tuple(h.strip().lower() for h in allow_hosts if h.strip())

    def provider_for(self, host: str, port: int) -> Any | None:
        return self.registry.lookup(host, port)

    def is_trusted(self, host: str, port: int) -> bool:
        return (host, port) in self.trusted or host in self.trusted_hosts

    def _allowed(self, host: str, port: int) -> bool:
        return any(_host_matches(pattern, host, port) for pattern in self.allow)

    def resolve(self, raw_path: bytes, query: bytes) -> Target:
        """The target of a request for `raw_path?query`; raises `Refused`."""
        if raw_path.startswith(EXPLICIT_PREFIX):
            return self._explicit(raw_path[len(EXPLICIT_PREFIX) :], query)
        name, sep, rest = raw_path[1:].partition(b"/")
        entry = self.routes.get(name)
        if entry is None:
            raise Refused(
                404,
                "unknown_route",
                "no such route: use /{provider}/... (providers: "
                + ", ".join(sorted(n.decode() for n in self.routes))
                + ") or /_/{scheme}/{host}/...",
            )
        upstream, module = entry
        path = upstream.path + b"/" + rest if sep else upstream.path + b"/"
        return _target(upstream.scheme, upstream.host, upstream.port, path, query, module)

    def _explicit(self, rest: bytes, query: bytes) -> Target:
        scheme_raw, _, rest = rest.partition(b"/")
        authority_raw, _, path = rest.partition(b"/")
        scheme = _SCHEMES.get(scheme_raw.lower())
        if scheme is None or not authority_raw:
            raise Refused(400, "bad_target", "explicit target: expected /_/{http|https}/{host[:port]}/{path}")
        try:
            parts = urlsplit(f"{scheme[0]}://{authority_raw.decode('ascii')}")
            host, port = (parts.hostname or "").lower(), parts.port or scheme[1]
        except (UnicodeDecodeError, ValueError):
            raise Refused(400, "bad_target", "explicit target: malformed host or port") from None
        if not _VALID_HOST.match(host) or parts.username is not None or parts.password is not None:
            raise Refused(400, "bad_target", "explicit target: malformed host")
        module = self.provider_for(host, port)
        if module is None and not self._allowed(host, port) and not self.is_trusted(host, port):
            raise Refused(
                403,
                "target_not_allowed",
                f"{host} is neither a known provider host nor on the proxy's allowlist "
                "(--allow-host / LLMOBSERVE_PROXY_ALLOW_HOSTS)",
            )
        return _target(scheme[0], host, port, b"/" + path, query, module)


def _target(scheme: str, host: str, port: int, path: bytes, query: bytes, module: Any) -> Target:
    target = path + b"?" + query if query else path
    try:
        text_path = path.decode("ascii")
    except UnicodeDecodeError:
        text_path = path.decode("latin-1")
    return Target(scheme, host, port, target, text_path, module)
