"""A wire-level Redis stub speaking RESP2/RESP3 on 127.0.0.1, for commands Debian's redis-server lacks.

RediSearch (`FT.*`) is a module that Debian's redis-server does not ship, so `FT.SEARCH` is tested
against this: a real TCP server reading redis-py's own RESP arrays and answering with the reply
shapes RediSearch documents (https://redis.io/docs/latest/commands/ft.search/). `HELLO 3` switches
a connection to RESP3 (redis-py >= 8 asks for it by default). `handler(args, protocol)` answers a
command (a list of bytes); its value is encoded as RESP: int -> integer, bytes/str -> bulk string,
list -> array, dict -> map (RESP3), None -> null, `Simple("OK")` -> simple string, `Error(...)` -> error.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Simple:
    text: str


@dataclass
class Error:
    message: str


class _Nil:
    """A null reply (`GET` of a missing key); a handler returning None means "unknown command"."""


NIL = _Nil()


def encode(value: Any, protocol: int = 2) -> bytes:
    if isinstance(value, Simple):
        return f"+{value.text}\r\n".encode()
    if isinstance(value, Error):
        return f"-{value.message}\r\n".encode()
    if value is None or isinstance(value, _Nil):
        return b"_\r\n" if protocol == 3 else b"$-1\r\n"
    if isinstance(value, bool):
        return b":%d\r\n" % int(value)
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, list):
        return b"*%d\r\n" % len(value) + b"".join(encode(item, protocol) for item in value)
    if isinstance(value, dict):
        return b"%%%d\r\n" % len(value) + b"".join(
            encode(k, protocol) + encode(v, protocol) for k, v in value.items()
        )
    raise TypeError(f"cannot encode {value!r}")


class RespStub:
    def __init__(self, handler: Callable[[list[bytes], int], Any]) -> None:
        self.handler = handler
        self.commands: list[list[bytes]] = []
        stub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                protocol = 2
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    if not line.startswith(b"*"):
                        return
                    args = []
                    for _ in range(int(line[1:])):
                        size = int(self.rfile.readline()[1:])
                        args.append(self.rfile.read(size + 2)[:-2])
                    if args and args[0].upper() == b"HELLO":
                        protocol = int(args[1]) if len(args) > 1 else protocol
                        self.wfile.write(encode(stub.hello(protocol), protocol))
                    else:
                        self.wfile.write(encode(stub._answer(args, protocol), protocol))
                    self.wfile.flush()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def hello(protocol: int) -> Any:
        info = {
            "server": "redis",
            "version": "7.2.0",
            "proto": protocol,
            "id": 1,
            "mode": "standalone",
            "role": "master",
            "modules": [],
        }
        return info if protocol == 3 else [item for pair in info.items() for item in pair]

    def _answer(self, args: list[bytes], protocol: int) -> Any:
        name = args[0].upper() if args else b""
        if name == b"CLIENT":
            return Simple("OK")
        self.commands.append(args)
        reply = self.handler(args, protocol)
        return Error(f"ERR unknown command '{args[0].decode()}'") if reply is None else reply

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> RespStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
