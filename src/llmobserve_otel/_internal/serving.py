"""What the collector and the proxy share about running a uvicorn server: signals, threads, binding.

No uvicorn import here: the servers pass their own `uvicorn.Server`, so the SDK install stays light.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

_T = TypeVar("_T")


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses: binding there needs no token."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_url(server: Any) -> str:
    """`http://host:port` of a started uvicorn server's first socket (IPv6 hosts in brackets)."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_taking_signals(run: Callable[[], _T]) -> _T:
    """Run a uvicorn server in the main thread, taking the SIGTERM/SIGINT it re-raises once shut down.

    uvicorn handles the first signal (graceful shutdown) and re-raises it when done; the handlers
    set here take that re-raise, so the process exits through the caller's return (and its exit
    code) after a clean drain instead of dying by the default handler.
    """
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class ServerThread:
    """A uvicorn server in a background thread (tests, benchmarks, embedding).

    `with ServerThread(server, "name") as running: running.url` serves until the block ends.
    """

    def __init__(self, server: Any, name: str) -> None:
        self.server = server
        self._name = name
        self._thread = threading.Thread(target=server.run, name=f"llmobserve-{name}", daemon=True)

    @property
    def url(self) -> str:
        return server_url(self.server)

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        pause = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self.server.started:
                return self
            if not self._thread.is_alive():
                break
            pause.wait(0.01)
        raise RuntimeError(f"{self._name} server did not start")

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
