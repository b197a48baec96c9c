"""rotel pricing processor throughput: OTLP/HTTP in -> rotel (+ processor) -> OTLP/HTTP out.

rotel (PyPI `rotel`) runs in its own process with, in turn:

* `none`: no processor (rotel's own cost: receive, batch, export);
* `read`: a processor that only reads every span's attribute list (the Python crossing);
* `pricing`: pricing_processor/llmobserve_pricing.py on unpriced spans (each one priced);
* `pricing-priced`: the same processor on spans that already carry a cost (left alone).

Senders post pre-encoded protobuf requests (512 realistic provider-call spans each, see
_spans.py) over keep-alive connections; a sink in this process counts the spans rotel exports.
Throughput is spans over the time from the first request until the sink has them all; CPU is
rotel's own (user + system from /proc), per span. Modes alternate within each repetition.

    .venv/bin/python benchmarks/rotel_pricing.py --spans 30000 --repeat 3

Directional, not a CI threshold: compare runs on one machine (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _spans import export_request
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ROOT = Path(__file__).resolve().parent.parent
PROCESSOR = ROOT / "pricing_processor" / "llmobserve_pricing.py"
READ_ONLY = """
def process_spans(resource_spans):
    for scope_spans in resource_spans.scope_spans:
        for span in scope_spans.spans:
            for kv in span.attributes:
                kv.key
"""
MODES = ("none", "read", "pricing", "pricing-priced")
_COST_KEYS = ("llmobserve.cost.usd", "llmobserve.cost.source", "llmobserve.cost.status")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bodies(n_requests: int, priced: bool) -> list[bytes]:
    out = []
    for seed in range(n_requests):
        request = export_request(512, seed)
        for span in request.resource_spans[0].scope_spans[0].spans:
            model = next(kv.value.string_value for kv in span.attributes if kv.key == "gen_ai.request.model")
            kept = [kv for kv in span.attributes if priced or kv.key not in _COST_KEYS]
            for kv in kept:  # a snapshot name the catalogue knows (the shared spans invent a date)
                if kv.key == "gen_ai.response.model":
                    kv.value.string_value = model
            del span.attributes[:]
            span.attributes.extend(kept)
        out.append(request.SerializeToString())
    return out


class Sink:
    """Counts the spans rotel exports (decoding each request, as a collector would)."""

    def __init__(self) -> None:
        self.count = 0
        self.priced = 0
        self.cond = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
                priced = sum(1 for s in spans if any(kv.key == "llmobserve.cost.usd" for kv in s.attributes))
                with sink.cond:
                    sink.count += len(spans)
                    sink.priced += priced
                    sink.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self) -> None:
        with self.cond:
            self.count = self.priced = 0

    def wait(self, count: int, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= count, timeout)


def start_rotel(
    mode: str, sink_url: str, workdir: Path, processor: Path = PROCESSOR
) -> tuple[subprocess.Popen[bytes], int]:
    import rotel

    port = free_port()
    args = [
        str(Path(rotel.__file__).parent / "rotel-agent"),
        "start",
        "--otlp-http-endpoint",
        f"127.0.0.1:{port}",
        "--otlp-grpc-endpoint",
        f"127.0.0.1:{free_port()}",
        "--pid-file",
        str(workdir / f"{mode}.pid"),
        "--log-file",
        str(workdir / f"{mode}.log"),
        "--exporter",
        "otlp",
        "--otlp-exporter-protocol",
        "http",
        "--otlp-exporter-compression",
        "none",
        "--otlp-exporter-endpoint",
        sink_url,
    ]
    if mode == "read":
        script = workdir / "read_only.py"
        script.write_text(READ_ONLY)
        args += ["--otlp-with-trace-processor", str(script)]
    elif mode.startswith("pricing"):
        args += ["--otlp-with-trace-processor", str(processor)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROTEL_", "OTEL_", "PYTHON"))}
    env["VIRTUAL_ENV"] = sys.prefix
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rotel ({mode}) did not start") from None
            time.sleep(0.05)
    return process, port


def send(port: int, payloads: list[bytes], senders: int) -> None:
    def worker(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in share:
            connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"rotel answered {response.status}")
        connection.close()

    threads = [threading.Thread(target=worker, args=(payloads[i::senders],)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_mode(
    mode: str,
    payloads: list[bytes],
    warmup: list[bytes],
    sink: Sink,
    workdir: Path,
    senders: int,
    processor: Path = PROCESSOR,
) -> dict:
    process, port = start_rotel(mode, sink.url, workdir, processor)
    try:
        sink.reset()
        send(port, warmup, 1)  # imports, price catalogue, connections
        if not sink.wait(512 * len(warmup), 60):
            raise RuntimeError(f"{mode}: warm-up spans did not arrive")
        sink.reset()
        total = 512 * len(payloads)
        cpu0 = cpu_seconds(process.pid)
        started = time.perf_counter()
        send(port, payloads, senders)
        if not sink.wait(total, 300):
            raise RuntimeError(f"{mode}: {sink.count} of {total} spans arrived")
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu0
        return {
            "spans_s": total / elapsed,
            "cpu_us": cpu / total * 1e6,
            "priced": sink.priced,
            "total": total,
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=30_000, help="spans per mode and repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"comma-separated subset of {','.join(MODES)}"
    )
    parser.add_argument("--processor", type=Path, default=PROCESSOR, help="the processor file to measure")
    args = parser.parse_args()
    modes = tuple(m for m in args.modes.split(",") if m)
    if set(modes) - set(MODES):
        parser.error(f"unknown mode in {args.modes!r}")
    n_requests = max(1, args.spans // 512)
    unpriced = bodies(n_requests, priced=False)
    priced = bodies(n_requests, priced=True)
    warm_unpriced, warm_priced = bodies(4, priced=False), bodies(4, priced=True)
    sink = Sink()
    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeat):
            order = modes[rep % len(modes) :] + modes[: rep % len(modes)]
            for mode in order:
                payloads, warmup = (
                    (priced, warm_priced) if mode == "pricing-priced" else (unpriced, warm_unpriced)
                )
                results[mode].append(
                    run_mode(mode, payloads, warmup, sink, Path(tmp), args.senders, args.processor)
                )
                print(f"rep {rep + 1} {mode}: {results[mode][-1]}", file=sys.stderr)
    print(f"load average at start: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; {os.cpu_count()} cores")
    print(
        f"{512 * n_requests} spans per mode x {args.repeat} repetitions, {args.senders} senders, 512 spans a request"
    )
    print(
        "| mode | spans/s (median, min … max) | rotel CPU µs/span (median, min … max) | spans with a cost on exit |"
    )
    print("|---|---|---|---|")
    for mode in modes:
        rate = [r["spans_s"] for r in results[mode]]
        cpu = [r["cpu_us"] for r in results[mode]]
        priced_count = results[mode][-1]["priced"]
        print(
            f"| {mode} | {statistics.median(rate):,.0f} ({min(rate):,.0f} … {max(rate):,.0f}) "
            f"| {statistics.median(cpu):.1f} ({min(cpu):.1f} … {max(cpu):.1f}) "
            f"| {priced_count} of {results[mode][-1]['total']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
