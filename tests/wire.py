"""A local server answering with canned, documented response shapes, for the coverage tests.

`WireServer` is a real HTTP/1.1 server on 127.0.0.1 (random port) in a thread. Each route is a
method, a path regex and a handler returning a `Reply`; every request is recorded (method, path,
headers, body) so tests can assert what reached the "provider". Streaming replies send their
chunks one by one (chunked transfer encoding), as SSE APIs do.

    with WireServer([On("POST", r"/v1/charges", lambda req: Reply.json({...}))]) as server:
        map_host(server, "stripe")           # the capture now treats it as the provider's host
        sdk_client(base_url=server.url) ...
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    """Path with the query string."""
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    """When set, sent one by one with chunked encoding instead of `body`."""

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status, json.dumps(payload).encode(), {"content-type": "application/json", **(headers or {})}
        )

    @classmethod
    def sse(cls, events: Iterable[tuple[str | None, Any]], headers: dict[str, str] | None = None) -> Reply:
        """Server-sent events from (event name or None, data: str or JSON-able) pairs."""

        def chunks() -> Iterable[bytes]:
            for name, data in events:
                text = data if isinstance(data, str) else json.dumps(data)
                prefix = f"event: {name}\n" if name else ""
                yield f"{prefix}data: {text}\n\n".encode()

        return cls(200, b"", {"content-type": "text/event-stream", **(headers or {})}, chunks())


@dataclass
class On:
    method: str
    path: str
    """A regex matched against the path without the query string (fullmatch)."""
    handler: Callable[[Request], Reply]


class WireServer:
    def __init__(self, routes: list[On]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    body = _read_chunked(self.rfile)
                path = self.path.split("?", 1)[0]
                request = Request(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                server.requests.append(request)
                for route in server.routes:
                    if route.method == self.command and (found := re.fullmatch(route.path, path)):
                        request.match = found
                        self._reply(route.handler(request))
                        return
                self._reply(Reply.json({"error": f"no route for {self.command} {path}"}, 404))

            def _reply(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is None:
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for chunk in reply.chunks:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host_port}"

    def __enter__(self) -> WireServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _read_chunked(stream: Any) -> bytes:
    body = bytearray()
    while True:
        size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            stream.readline()
            return bytes(body)
        body += stream.read(size)
        stream.readline()


def map_host(server: WireServer | str, provider: str) -> None:
    """Treat `server` (or a `host:port`) as provider `provider`'s host in the live capture registry."""
    from llmobserve_otel import capture

    capture.registry().add(server if isinstance(server, str) else server.host_port, provider)
