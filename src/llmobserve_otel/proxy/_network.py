"""Where the proxy may connect: address checks at connection time, so DNS cannot smuggle a target in.

The upstream pool connects through `GuardedBackend`: it resolves the host itself, refuses when any
address is loopback, private (RFC 1918, ULA), link-local (169.254/16, fe80::/10), unspecified,
multicast or reserved, or is the proxy's own listening socket, and then connects to the checked
address. TLS still verifies the certificate and sends SNI for the host name (httpcore starts TLS on
the returned stream with the origin's host), so connecting by address changes nothing else. The
check runs once per new connection; pooled keep-alive connections do not pay it again.

Targets the operator named explicitly (`Targets.is_trusted`) and `--allow-private` skip the
private-range check; the proxy's own socket is refused always (a request loop).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import httpcore

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(httpcore.ConnectError):
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


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that checks every address before connecting to it."""

    def __init__(
        self,
        inner: httpcore.AsyncNetworkBackend,
        *,
        trusted: Callable[[str, int], bool],
        allow_private: bool = False,
    ) -> None:
        self._inner = inner
        self._trusted = trusted
        self._allow_private = allow_private
        self.own: set[tuple[str, int]] = set()
        """(address, port) pairs the proxy listens on; filled once the server has bound."""
        self.own_ports: set[int] = set()

    def listening_on(self, sockets: Iterable[Any]) -> None:
        for sock in sockets:
            host, port = sock.getsockname()[:2]
            self.own.add((str(ipaddress.ip_address(host)), port))
            self.own_ports.add(port)

    def _is_own(self, address: Address, port: int) -> bool:
        if port not in self.own_ports:
            return False
        for host, own_port in self.own:
            if own_port != port:
                continue
            own = ipaddress.ip_address(host)
            # A wildcard bind answers on every local address; loopback and private ones at least.
            if own == address or (own.is_unspecified and (address.is_loopback or address.is_private)):
                return True
        return False

    async def _addresses(self, host: str, port: int) -> list[Address]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        seen: dict[str, Address] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            text = str(sockaddr[0]).split("%", 1)[0]
            seen.setdefault(text, ipaddress.ip_address(text))
        return list(seen.values())

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._addresses(host, port)
        check_private = not (self._allow_private or self._trusted(host.lower(), port))
        for address in addresses:
            if self._is_own(address, port):
                raise TargetRefused(f"{host}:{port} is this proxy itself")
            reason = forbidden(address) if check_private else None
            if reason is not None:
                raise TargetRefused(f"{host} resolves to a {reason} address ({address})")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("unix sockets are not proxy targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
