"""Proxy test harness: the real `llmobserve-otel proxy` in a subprocess, an OTLP/HTTP receiver for its
spans, and a stdlib fault server playing an OpenAI upstream that misbehaves on purpose.

The proxy exports over OTLP like in production (no in-memory shortcut): the receiver decodes the
protobuf requests it gets and keeps the spans.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

# --- OTLP receiver ---------------------------------------------------------------------------


@dataclass
class ReceivedSpan:
    name: str
    service: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    status_code: int
    start_ns: int
    attributes: dict[str, Any]
    instance: str = ""
    """`service.instance.id` of the process that sent it."""


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


class OtlpReceiver:
    """OTLP/HTTP protobuf receiver on 127.0.0.1 (POST /v1/traces); spans kept in arrival order."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.raw: list[bytes] = []
        self.since_ns = 0
        """Spans started before this (a previous test's, exported late) are not this test's."""
        self._lock = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v1/traces":
                    receiver._add(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        ReceivedSpan(
                            name=span.name,
                            service=resource.get("service.name", ""),
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            kind=span.kind,
                            status_code=span.status.code,
                            start_ns=span.start_time_unix_nano,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                            instance=resource.get("service.instance.id", ""),
                        )
                    )
        with self._lock:
            self.raw.append(body)
            self.spans.extend(spans)
            self._lock.notify_all()

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()
            self.raw.clear()
            self.since_ns = time.time_ns()

    def wait(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 10.0
    ) -> list[ReceivedSpan]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.spans):
                left = deadline - time.monotonic()
                assert left > 0, f"spans never matched; got {[(s.service, s.name) for s in self.spans]}"
                self._lock.wait(left)
            return list(self.spans)

    def proxy_spans(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedSpan]:
        """Wait for `count` spans from the proxy, then a little longer to catch any extra one."""

        def mine(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
            return [s for s in spans if s.service == "llmobserve-proxy" and s.start_ns >= self.since_ns]

        self.wait(lambda spans: len(mine(spans)) >= count, timeout)
        time.sleep(0.3)
        with self._lock:
            return mine(self.spans)

    def close(self) -> None:
        self._server.shutdown()


# --- fault server ----------------------------------------------------------------------------


def _chunk(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def stream_events(count: int) -> list[bytes]:
    """An OpenAI chat stream: `count` content chunks, a usage chunk (7 in, `count` out), [DONE]."""
    base = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    events = [
        _chunk({**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]})
        for i in range(count)
    ]
    events.append(_chunk({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    usage = {"prompt_tokens": 7, "completion_tokens": count, "total_tokens": 7 + count}
    events.append(_chunk({**base, "choices": [], "usage": usage}))
    events.append(b"data: [DONE]\n\n")
    return events


@dataclass
class FaultServer:
    """An OpenAI-shaped upstream with controllable misbehaviour, chosen by path.

    POST /gate/v1/chat/completions     stream: first event, then waits for `gate` before the rest
    POST /slow/v1/chat/completions     stream: one event every 100 ms (200 events); records a cancel
    POST /hang/v1/chat/completions     reads the request, never answers (until the client goes)
    POST /malformed/v1/chat/completions  200 application/json with a body that is not JSON
    POST /hangup/v1/chat/completions   stream: two events, then closes without the chunked terminator
    POST /big/...                      64 MiB body, written as fast as the connection takes it
    GET  /redirect/...                 302 to http://169.254.169.254/latest/meta-data/
    """

    url: str = ""
    host_port: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    last_event_sent: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    events_sent: int = 0
    bytes_sent: int = 0
    client_ports: list[int] = field(default_factory=list)

    def reset(self) -> None:
        self.requests.clear()
        self.client_ports.clear()
        self.gate.clear()
        self.last_event_sent.clear()
        self.cancelled.clear()
        self.events_sent = 0
        self.bytes_sent = 0


MALFORMED_BODY = b'{"id": "chatcmpl-x", "usage": {"prompt_tokens": 3,'


def _fault_handler(state: FaultServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _record(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            state.client_ports.append(self.client_address[1])

        def _stream_head(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def do_GET(self) -> None:
            self._record()
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            self._record()
            kind = self.path.split("/")[1]
            if kind == "gate":
                events = stream_events(5)
                self._stream_head()
                self._send_chunk(events[0])
                state.gate.wait(10)
                for event in events[1:]:
                    self._send_chunk(event)
                state.last_event_sent.set()
                self._send_chunk(b"")
            elif kind == "slow":
                self._stream_head()
                try:
                    for event in stream_events(200):
                        self._send_chunk(event)
                        state.events_sent += 1
                        time.sleep(0.1)
                    self._send_chunk(b"")
                except OSError:
                    state.cancelled.set()
            elif kind == "hang":
                self.connection.settimeout(10)
                try:
                    self.rfile.read(1)  # returns when the proxy closes the connection
                except OSError:
                    pass
                state.cancelled.set()
            elif kind == "malformed":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(MALFORMED_BODY)))
                self.end_headers()
                self.wfile.write(MALFORMED_BODY)
            elif kind == "big":  # 64 MiB of JSON-ish bytes, as fast as the socket takes them
                block = b"x" * (1 << 20)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(64 << 20))
                self.end_headers()
                try:
                    for _ in range(64):
                        self.wfile.write(block)
                        state.bytes_sent += len(block)
                except OSError:
                    state.cancelled.set()
            elif kind == "hangup":
                self._stream_head()
                for event in stream_events(5)[:2]:
                    self._send_chunk(event)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


# --- the proxy -------------------------------------------------------------------------------


class ProxyProcess:
    """`llmobserve-otel proxy` as a subprocess; `url` once it announced where it listens."""

    def __init__(self, args: list[str], env: dict[str, str], port: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llmobserve_otel", "proxy", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        assert self.process.stderr is not None
        deadline = time.monotonic() + 20
        self.url = ""
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.stderr.append(line)
            if "listening on " in line:
                self.url = line.rsplit("listening on ", 1)[1].strip()
                break
        assert self.url, "proxy did not start: " + "".join(self.stderr)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(30)


def proxy_env(otlp: OtlpReceiver, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    env.update(
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    env.update(extra)
    return env


def run_routed_app(
    start_proxy: Callable[..., Any], otlp: OtlpReceiver, sim: Any, source: str
) -> tuple[Any, int]:
    """Run `source` (Python, printing JSON) in a fresh interpreter whose provider calls go through a
    pricing proxy in front of `sim`; returns what it printed and how many requests `sim` had seen
    before it ran."""
    proxy = start_proxy(["--price", "--upstream", f"openai=http://{sim.host_port}"], proxy_env(otlp))
    before = len(sim.requests)
    env = proxy_env(
        otlp,
        SIM_URL=sim.url,
        LLMOBSERVE_PROXY_URL=proxy.url,
        LLMOBSERVE_PROVIDER_HOSTS=f"{sim.host_port}=openai",
        LLMOBSERVE_RAISE_INTERNAL_ERRORS="1",
    )
    app = subprocess.run([sys.executable, "-c", source], env=env, capture_output=True, text=True, timeout=60)
    assert app.returncode == 0, app.stderr
    return json.loads(app.stdout), before


def start_fault_server(
    tls: ssl.SSLContext | None = None,
) -> tuple[FaultServer, http.server.ThreadingHTTPServer]:
    state = FaultServer()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _fault_handler(state))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.host_port = f"127.0.0.1:{server.server_address[1]}"
    state.url = f"http://{state.host_port}"
    return state, server
