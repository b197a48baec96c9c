"""Which headers cross the proxy (pure functions over raw header lists).

Hop-by-hop headers (RFC 9110 section 7.6.1: `Connection` and every header it names, `Keep-Alive`,
`TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-*`) apply to one connection and never cross.
Towards the provider, tracing and attribution travel no further: `traceparent`, `tracestate`,
`baggage` and every `x-llmobserve-*` header are dropped. Auth headers (`Authorization`,
`x-api-key`, ...) are forwarded untouched and nothing here records or logs them.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[bytes, bytes]]

_HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"host"}
)
_TRACING = frozenset({b"traceparent", b"tracestate", b"baggage"})
# Recomputed for the forwarded body (the proxy reads the request body whole, bounded).
_REQUEST_ONLY = frozenset({b"content-length", b"expect"})


def _connection_named(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    named: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            named.update(token.strip().lower() for token in value.split(b","))
    return named


def upstream_request_headers(
    headers: Iterable[tuple[bytes, bytes]], authority: str, body_length: int | None
) -> Headers:
    """The client's headers as they go to the provider: Host set, hop-by-hop and tracing removed."""
    headers = list(headers)
    named = _connection_named(headers)
    out: Headers = [(b"host", authority.encode("ascii"))]
    for name, value in headers:
        lower = name.lower()
        if (
            lower in _HOP_BY_HOP
            or lower in _TRACING
            or lower in _REQUEST_ONLY
            or lower in named
            or lower.startswith((b"x-llmobserve-", b"proxy-"))
        ):
            continue
        out.append((name, value))
    if body_length is not None:
        out.append((b"content-length", str(body_length).encode("ascii")))
    return out


def client_response_headers(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """The provider's response headers as they go back to the client: hop-by-hop removed."""
    headers = list(headers)
    named = _connection_named(headers)
    return [
        (name, value)
        for name, value in headers
        if (lower := name.lower()) not in _HOP_BY_HOP
        and lower not in named
        and not lower.startswith(b"proxy-")
    ]


def header_dict(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-cased name -> last value, latin-1 decoded (what the body observer asks for)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
