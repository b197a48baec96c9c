"""Running the proxy on uvicorn: bound address noted for the self-loop check, SIGTERM drains.

SIGTERM or SIGINT: uvicorn stops accepting connections and lets the requests in flight (streams
included) finish for up to `drain_seconds`; the lifespan shutdown then closes the upstream pool
and flushes the spans still queued for export.
"""

from __future__ import annotations

import gc
import logging
import socket
import sys
from typing import Any

import uvicorn

from llmobserve_otel._internal.serving import ServerThread as _ServerThread
from llmobserve_otel._internal.serving import run_taking_signals, server_url
from llmobserve_otel.proxy._app import AbortFilter, Proxy

__all__ = ("ServerThread", "serve")


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, proxy: Proxy, announce: bool) -> None:
        super().__init__(config)
        self._proxy = proxy
        self._announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        for server in self.servers:
            self._proxy.own.listening_on(server.sockets)
        if self._announce and self.started:
            print(f"llmobserve-otel proxy: listening on {self.url}", file=sys.stderr, flush=True)

    @property
    def url(self) -> str:
        return server_url(self)


def _config(proxy: Proxy, host: str, port: int, log_level: str, drain_seconds: float) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(AbortFilter())
    return uvicorn.Config(
        proxy,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        # The upstream's Server and Date headers pass through; uvicorn adds none of its own.
        server_header=False,
        date_header=False,
        proxy_headers=False,  # X-Forwarded-* from clients mean nothing here; skip uvicorn's middleware
        timeout_graceful_shutdown=int(drain_seconds),
        timeout_keep_alive=75,  # longer than the usual client pool idle time, so clients close first
        backlog=4096,
    )


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket several worker processes bind at once; the kernel spreads connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    return sock


def serve(
    proxy: Proxy,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    drain_seconds: float = 30,
    reuse_port: bool = False,
    announce: bool = True,
) -> None:
    """Serve until SIGTERM/SIGINT, then drain requests in flight and flush spans (see `run_taking_signals`).

    With `reuse_port`, other processes may serve the same port (`--workers`).
    """
    # The span export thread holds the GIL while it encodes a batch; the default 5 ms switch interval
    # would let it stall every request in flight for that long. 1 ms bounds the stall.
    sys.setswitchinterval(0.001)
    # Everything imported so far lives as long as the process: out of the cycle collector's way,
    # so its full collections (a long pause in the middle of requests) walk only request garbage.
    gc.collect()
    gc.freeze()
    server = _Server(_config(proxy, host, port, log_level, drain_seconds), proxy, announce=announce)
    run_taking_signals(lambda: server.run(sockets=[_reuse_port_socket(host, port)] if reuse_port else None))


class ServerThread(_ServerThread):
    """The proxy in a background thread (tests, embedding): `with ServerThread(proxy) as s: s.url`."""

    def __init__(self, proxy: Proxy, host: str = "127.0.0.1", port: int = 0) -> None:
        self.proxy = proxy
        super().__init__(_Server(_config(proxy, host, port, "warning", 5), proxy, announce=False), "proxy")
