"""Baggage (customer ids, section paths) goes to internal services and never to third parties."""

from __future__ import annotations

import asyncio
import http.server
import threading

import httpx2
import pytest
import requests

import llmobserve_otel as lo
from llmobserve_otel._internal.hosts import is_internal


@pytest.mark.parametrize(
    ("host", "internal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("orders", True),
        ("orders.default.svc", True),
        ("db.internal", True),
        ("api.stripe.com", False),
        ("api.openai.com", False),
        ("8.8.8.8", False),
    ],
)
def test_is_internal(host, internal):
    assert is_internal(host) is internal


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Plays an internal service and, as a forward proxy, any third-party host (nothing is forwarded)."""

    seen: list[tuple[str, dict]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def _aiohttp_gets(recorder: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(recorder + "/internal") as response:
            await response.read()
        async with session.get("http://api.example.com/external", proxy=recorder) as response:
            await response.read()


@pytest.mark.parametrize("client", ["httpx2", "requests", "aiohttp"])
def test_internal_gets_baggage_third_party_does_not(recorder, spans, client):
    _Recorder.seen.clear()
    with lo.customer("acme"), lo.section("agent:a"):
        if client == "aiohttp":
            asyncio.run(_aiohttp_gets(recorder))
        elif client == "httpx2":
            httpx2.get(recorder + "/internal")
            with httpx2.Client(proxy=recorder) as c:  # the proxy sees the third-party request's headers
                c.get("http://api.example.com/external")
        else:
            requests.get(recorder + "/internal", timeout=5)
            requests.get("http://api.example.com/external", proxies={"http": recorder}, timeout=5)
    internal, external = _Recorder.seen
    assert internal[0] == "/internal"
    assert "llmobserve.customer.id=acme" in internal[1]["baggage"]
    assert "agent%3Aa" in internal[1]["baggage"] or "agent:a" in internal[1]["baggage"]
    assert "traceparent" in internal[1]
    assert external[0] == "http://api.example.com/external"
    assert "baggage" not in external[1]
    assert "traceparent" in external[1]  # trace context is not personal data; OTel sends it by default
