"""`llmobserve-otel collector` as a process: SIGTERM stores everything it acknowledged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from span_factory import make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import open_store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_sigterm_flushes_everything_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOBSERVE_")}
    # A flush interval far beyond the test: every span is still queued when SIGTERM arrives.
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
            "600",
            "--batch-size",
            "100000",
            "--max-queue",
            "100000",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "collector did not start"
                time.sleep(0.1)
        for batch in range(10):
            spans = [
                make_span(batch * 100 + n + 1, {sc.CUSTOMER_ID: "term", sc.COST_USD: 0.001}, trace=batch + 1)
                for n in range(100)
            ]
            request = urllib.request.Request(
                base + "/v1/traces",
                data=make_request(*spans).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
        assert get(base + "/health")["pending"] == 1000
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "stopped, nothing accepted was lost" in stderr
    client = open_store(f"chdb://{store}", create=False)
    try:
        assert client.query("SELECT count() FROM otel_traces").result_rows == [(1000,)]
        cost = client.query("SELECT count(), sum(cost_usd) FROM llmobserve_costs FINAL").result_rows
        assert [(n, float(c)) for n, c in cost] == [(1000, 1.0)]
    finally:
        client.close()
