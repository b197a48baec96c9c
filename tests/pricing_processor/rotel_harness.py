"""Running the real rotel collector (PyPI wheel `rotel`), the local collector and test sinks.

`Rotel(...)` starts `rotel-agent start` on free loopback ports with a Python trace processor and an
OTLP/HTTP exporter; `OtlpSink` is the receiving end (a stdlib HTTP server decoding OTLP protobuf);
`export(...)` posts an ExportTraceServiceRequest; `LocalCollector.start(...)` runs
`llmobserve-otel collector` as a process; `ClickHouseShim` takes rotel's ClickHouse inserts.
Imported by tests/pricing_processor and tests/test_proxy_e2e.py.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

ROOT = Path(__file__).resolve().parents[2]
PROCESSOR = ROOT / "pricing_processor" / "llmobserve_pricing.py"
VENV = Path(sys.prefix)  # the test venv, where llmobserve-otel is installed


def rotel_binary() -> Path:
    import rotel

    return Path(rotel.__file__).parent / "rotel-agent"


def require_rotel() -> None:
    """Skip the calling test module when the rotel binary cannot run here (it links the system's
    libpython3.11: Debian/Ubuntu package `libpython3.11`)."""
    import pytest

    try:
        out = subprocess.run([str(rotel_binary()), "--version"], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        pytest.skip(f"the rotel binary does not run here: {exc}", allow_module_level=True)
    if out.returncode != 0:
        pytest.skip(
            f"the rotel binary does not run here: {out.stderr.strip()[:300]}", allow_module_level=True
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def rotel_env(venv: Path | None = VENV, **extra: str) -> dict[str, str]:
    """The environment rotel runs in: the test's, without OTEL_*, ROTEL_*, LLMOBSERVE_* (the test
    session's own settings) and PYTHON*, plus VIRTUAL_ENV."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ROTEL_", "LLMOBSERVE_", "PYTHON"))
    }
    env.pop("VIRTUAL_ENV", None)
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    env.update(extra)
    return env


class Rotel:
    """`rotel-agent start` with a trace processor, OTLP/HTTP in, OTLP/HTTP out to `exporter_url`."""

    def __init__(
        self,
        workdir: Path,
        *,
        exporter_url: str,
        processor: Path | None = PROCESSOR,
        env: Mapping[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.log_path = workdir / f"rotel-{self.http_port}.log"
        args = [
            str(rotel_binary()),
            "start",
            "--otlp-http-endpoint",
            f"127.0.0.1:{self.http_port}",
            "--otlp-grpc-endpoint",
            f"127.0.0.1:{self.grpc_port}",
            "--pid-file",
            str(workdir / f"rotel-{self.http_port}.pid"),
            "--log-file",
            str(self.log_path),
            "--exporter",
            "otlp",
            "--otlp-exporter-protocol",
            "http",
            "--otlp-exporter-endpoint",
            exporter_url,
            "--otlp-exporter-retry-initial-backoff",
            "100ms",
            "--batch-timeout",
            "50ms",
            *extra_args,
        ]
        if processor is not None:
            args += ["--otlp-with-trace-processor", str(processor)]
        self._out = open(self.log_path.with_suffix(".out"), "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args,
            env=dict(env if env is not None else rotel_env()),
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> Rotel:
        try:
            wait_port(self.http_port, self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"rotel did not start:\n{self.output()}") from None
        return self

    def output(self) -> str:
        self._out.flush()
        return self.log_path.with_suffix(".out").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close()

    def __enter__(self) -> Rotel:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- sending OTLP requests (built with span_factory) and a sink ---


def export(url: str, request: ExportTraceServiceRequest) -> None:
    """POST one OTLP/HTTP protobuf request to `url` (…/v1/traces is appended)."""
    post = urllib.request.Request(
        url.rstrip("/") + "/v1/traces",
        data=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )
    with urllib.request.urlopen(post, timeout=10) as response:
        assert response.status == 200, response.status


def plain(value: AnyValue) -> Any:
    """An OTLP AnyValue as a Python value (arrays as lists)."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


class OtlpSink:
    """An OTLP/HTTP receiver keeping every span it gets as (name, [(key, value), ...]) in order."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, list[tuple[str, Any]]]] = []
        self._cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with sink._cond:
                    for resource_spans in request.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            for span in scope_spans.spans:
                                attributes = [(kv.key, plain(kv.value)) for kv in span.attributes]
                                sink.spans.append((span.name, attributes))
                    sink._cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def wait(self, count: int, timeout: float = 20.0) -> list[tuple[str, list[tuple[str, Any]]]]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.spans) >= count, timeout):
                raise TimeoutError(f"{len(self.spans)} of {count} spans arrived")
            return list(self.spans)

    def named(self, name: str) -> list[tuple[str, Any]]:
        matches = [attributes for span_name, attributes in self.spans if span_name == name]
        assert len(matches) == 1, (name, self.spans)
        return matches[0]

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the local collector as a process ---


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without OTEL_* and LLMOBSERVE_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    env.update(extra)
    return env


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_http(url: str, process: subprocess.Popen[Any], what: str, timeout: float = 90.0) -> None:
    """Until GET `url` answers 2xx (the process must stay alive meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            get_json(url)
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not start") from None
            time.sleep(0.1)


@dataclass
class LocalCollector:
    """`llmobserve-otel collector` on a free port with a chDB store, as a process."""

    url: str
    store: Path
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, workdir: Path, *flags: str, env: Mapping[str, str] | None = None) -> LocalCollector:
        port = free_port()
        store = workdir / "store"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llmobserve_otel",
                "collector",
                "--port",
                str(port),
                "--clickhouse-url",
                f"chdb://{store}",
                "--flush-interval",
                "0.1",
                *flags,
            ],
            env=clean_env(**(env or {})),
            stderr=subprocess.PIPE,
            text=True,
        )
        collector = cls(f"http://127.0.0.1:{port}", store, process)
        try:
            wait_http(collector.url + "/health", process, "the collector")
        except Exception:
            raise RuntimeError(collector.stop()) from None
        return collector

    def wait_idle(self, inserted: int, timeout: float = 30.0) -> None:
        """Until the collector has stored `inserted` spans and holds none pending."""
        deadline = time.monotonic() + timeout
        while True:
            health = get_json(self.url + "/health")
            if health.get("inserted", 0) >= inserted and not health.get("pending"):
                return
            assert time.monotonic() < deadline, health
            time.sleep(0.1)

    def stop(self) -> str:
        """SIGTERM (stores everything accepted); its stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.stderr.read() if self.process.stderr else ""


def report(*args: str, collector_url: str | None = None) -> Any:
    """`llmobserve-otel report ... --format json`, parsed."""
    extra = {"LLMOBSERVE_COLLECTOR_URL": collector_url} if collector_url else {}
    out = subprocess.run(
        [sys.executable, "-m", "llmobserve_otel", "report", *args, "--format", "json"],
        env=clean_env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# --- a ClickHouse HTTP interface for rotel's ClickHouse exporter, backed by chDB ---

_INSERT = re.compile(r"^INSERT INTO (\w+) \(([^)]*)\) FORMAT RowBinary$")


class ClickHouseShim:
    """Takes `POST /?database=..&query=INSERT INTO t (cols) FORMAT RowBinary` (uncompressed body, as
    rotel sends with compression `none`) and runs that insert in a chDB store with our schema: the
    body is written to a file and read back with the `file()` table function, typed from our
    `TRACES_INSERT_TYPES`. Only the HTTP transport is stood in for; rows, schema and views are real.
    """

    def __init__(self, client: Any, workdir: Path) -> None:
        from llmobserve_otel.store._schema import TRACES_INSERT_COLUMNS, TRACES_INSERT_TYPES

        self.types = dict(zip(TRACES_INSERT_COLUMNS, TRACES_INSERT_TYPES, strict=True))
        self.client = client
        self.inserts: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        shim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self._body()
                status, answer = shim._insert(self.path, body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("content-length", 0)))
                parts = []
                while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(parts)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._dir = workdir
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _insert(self, path: str, body: bytes) -> tuple[int, bytes]:
        params = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        match = _INSERT.match(params.get("query", ""))
        if not match:
            self.errors.append(f"unexpected request {path}")
            return 400, b"Code: 62. not an INSERT ... FORMAT RowBinary"
        table, columns = match.group(1), [c.strip() for c in match.group(2).split(",")]
        try:
            structure = ", ".join(f"`{c}` {self.types[c]}" for c in columns)
            with self._lock:
                data = self._dir / f"rotel-insert-{len(self.inserts) + len(self.errors)}.bin"
                data.write_bytes(body)
                quoted = ", ".join(f"`{c}`" for c in columns)
                self.client.command(
                    f"INSERT INTO {table} ({quoted}) SELECT * FROM file('{data}', 'RowBinary', '{structure}')"
                )
                data.unlink()
                self.inserts.append(
                    {"table": table, "columns": columns, "params": params, "bytes": len(body)}
                )
        except Exception as exc:  # shown to rotel as a ClickHouse error, and kept for the test
            self.errors.append(repr(exc))
            return 500, f"Code: 1000. {exc}".encode()
        return 200, b""

    def __enter__(self) -> ClickHouseShim:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
