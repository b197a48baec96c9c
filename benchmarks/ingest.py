"""Ingest throughput: OTLP/HTTP protobuf (512 spans a request) -> collector -> embedded chDB store.

Figures from the same run, on the same realistic span (21 attributes, see _spans.py):

* ceiling: the rows the collector would write, inserted with plain clickhouse-connect `insert()`
  calls into a fresh chDB store in this process (no HTTP, no decoding): what the store takes
  from Python.
* collector: `llmobserve-otel collector` in its own process, fed by concurrent HTTP senders
  posting pre-encoded protobuf bodies (503 answers are retried, as an exporter would), timed
  from the first request until its /health reports every span inserted; once with ClickHouse
  decoding the spans (`--decode sql`, the default) and once with Python (`--decode python`).

    .venv/bin/python benchmarks/ingest.py --spans 200000

Directional, not a CI threshold: compare runs on one machine (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _spans import export_request

from llmobserve_otel.collector._pipeline import request_rows
from llmobserve_otel.store import insert_spans, open_store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ceiling(bodies: list[bytes], directory: str, batch_size: int, threads: int) -> float:
    """Spans/s of raw clickhouse-connect inserts of the collector's rows, `threads` inserts at a time."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    rows = [r for body in bodies for r in request_rows(ExportTraceServiceRequest.FromString(body)).rows]
    url = f"chdb://{directory}"
    clients = [open_store(url)]
    clients += [open_store(url, create=False, schema=False, check_lock=False) for _ in range(threads - 1)]
    try:
        insert_spans(clients[0], rows[:batch_size])  # warm-up: first insert pays engine start-up
        rows = rows[batch_size:]
        batches = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]

        def insert_every(n: int) -> None:
            for batch in batches[n::threads]:
                insert_spans(clients[n], batch)

        workers = [threading.Thread(target=insert_every, args=(n,)) for n in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            client.close()
    return len(rows) / elapsed


def health(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/health")
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def send_all(port: int, bodies: list[bytes], senders: int) -> int:
    """Post every body from `senders` keep-alive connections; returns how many 503s were retried."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    retries = [0]

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            while True:
                connection.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    break
                if response.status != 503:
                    raise RuntimeError(f"collector answered {response.status}")
                with lock:
                    retries[0] += 1
                time.sleep(0.02)
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return retries[0]


def collector(
    bodies: list[bytes], warmup: list[bytes], directory: str, args: argparse.Namespace, decode: str
) -> dict:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmobserve_otel",
            "collector",
            "--port",
            str(port),
            "--clickhouse-url",
            f"chdb://{directory}",
            "--batch-size",
            str(args.batch_size),
            "--max-queue",
            str(args.max_queue),
            "--insert-threads",
            str(args.insert_threads),
            "--decode",
            decode,
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health(port)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("collector did not start") from None
                time.sleep(0.1)
        send_all(port, warmup, 1)
        while health(port)["pending"]:
            time.sleep(0.01)
        base = health(port)["inserted"]
        cpu_before = cpu_seconds(process.pid)
        started = time.perf_counter()
        retries = send_all(port, bodies, args.senders)
        accepted = time.perf_counter() - started
        total = base + args.spans_per_request * len(bodies)
        while health(port)["inserted"] < total:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(60)
    spans = args.spans_per_request * len(bodies)
    return {
        "spans_per_s": spans / elapsed,
        "accept_spans_per_s": spans / accepted,
        "cpu_us_per_span": cpu / spans * 1e6,
        "retries_503": retries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=200_000, help="spans to send (default 200000)")
    parser.add_argument("--spans-per-request", type=int, default=512)
    parser.add_argument("--senders", type=int, default=4, help="concurrent HTTP connections (default 4)")
    parser.add_argument(
        "--batch-size", type=int, default=50_000, help="collector --batch-size (default 50000, its default)"
    )
    parser.add_argument("--max-queue", type=int, default=200_000)
    parser.add_argument(
        "--insert-threads", type=int, default=2, help="collector --insert-threads (default 2, its default)"
    )
    parser.add_argument(
        "--decode",
        choices=["sql", "python", "both"],
        default="both",
        help="collector --decode (default: both)",
    )
    args = parser.parse_args()

    n_requests = max(1, args.spans // args.spans_per_request)
    started = time.perf_counter()
    bodies = [export_request(args.spans_per_request, seed=i).SerializeToString() for i in range(n_requests)]
    warmup = [
        export_request(args.spans_per_request, seed=n_requests + i).SerializeToString() for i in range(20)
    ]
    print(
        f"{n_requests} requests x {args.spans_per_request} spans, {len(bodies[0]) / args.spans_per_request:.0f} "
        f"bytes/span protobuf (built in {time.perf_counter() - started:.1f} s)"
    )
    root = tempfile.mkdtemp(prefix="llmobserve-ingest-")
    try:
        top = ceiling(bodies, os.path.join(root, "ceiling"), args.batch_size, args.insert_threads)
        print(
            f"ceiling (clickhouse-connect insert of the same rows, {args.insert_threads} at a time): "
            f"{top:,.0f} spans/s"
        )
        for decode in ("sql", "python") if args.decode == "both" else (args.decode,):
            result = collector(bodies, warmup, os.path.join(root, f"collector-{decode}"), args, decode)
            print(
                f"collector --decode {decode} (OTLP/HTTP -> store, {args.senders} senders): "
                f"{result['spans_per_s']:,.0f} spans/s ({result['spans_per_s'] / top:.0%} of the ceiling); "
                f"accepted at {result['accept_spans_per_s']:,.0f} spans/s; {result['cpu_us_per_span']:.1f} "
                f"CPU-us/span in the collector; {result['retries_503']} requests retried after 503",
                flush=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
