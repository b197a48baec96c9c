"""Where the proxy may connect: address checks at connection time, so DNS cannot smuggle a target in.

`checked_addresses` resolves the host itself and refuses when any address is loopback, private
(RFC 1918, ULA), link-local (169.254/16, fe80::/10), unspecified, multicast or reserved, or is the
proxy's own listening socket; the upstream client then connects to the checked address (TLS still
verifies the certificate and sends SNI for the host name). The check runs once per new connection;
kept-alive connections do not pay it again.

Targets the operator named explicitly (`Targets.is_trusted`) and `--allow-private` skip the
private-range check; the proxy's own socket is refused always (a request loop).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The target resolves to an address the proxy must not reach."""


def forbidden(address: Address) -> str | None:
    """Why `address` is not a public unicast address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for label, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return label
    return None


class OwnSockets:
    """The (address, port) pairs the proxy listens on, filled once the server has bound."""

    def __init__(self) -> None:
        self.own: set[tuple[Address, int]] = set()

    def listening_on(self, sockets: Iterable[Any]) -> None:
        for sock in sockets:
            host, port = sock.getsockname()[:2]
            self.own.add((ipaddress.ip_address(host), port))

    def __call__(self, address: Address, port: int) -> bool:
        for own, own_port in self.own:
            # A wildcard bind answers on every local address; loopback and private ones at least.
            if own_port == port and (
                own == address or (own.is_unspecified and (address.is_loopback or address.is_private))
            ):
                return True
        return False


async def resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        from llmobserve_otel.proxy._upstream import ConnectError

        raise ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[str, Address] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        seen.setdefault(text, ipaddress.ip_address(text))
    return list(seen.values())


async def checked_addresses(
    host: str, port: int, *, trusted: bool, is_own: Callable[[Address, int], bool]
) -> list[Address]:
    """The addresses of `host`, all of them allowed; raises TargetRefused otherwise."""
    addresses = await resolve(host, port)
    for address in addresses:
        if is_own(address, port):
            raise TargetRefused(f"{host}:{port} is this proxy itself")
        reason = None if trusted else forbidden(address)
        if reason is not None:
            raise TargetRefused(f"{host} resolves to a {reason} address ({address})")
    return addresses
