"""A dead OTLP endpoint never hurts the app: its calls succeed with their exact bytes, it exits 0
promptly, and the export failure is visible on stderr.

Two kinds of dead: a port that refuses connections, and a listener that accepts nothing and never
answers (the request hangs until OTEL_EXPORTER_OTLP_TIMEOUT). Both the explicit `observe()` path and
the zero-code path (`llmobserve-otel run`) are run.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmobserve_otel.testing import ProviderSimulator

APPS = Path(__file__).parent / "apps"
BIN = Path(sys.executable).parent
MAX_SECONDS = 15


@pytest.fixture(scope="module")
def sims() -> Iterator[tuple[ProviderSimulator, ProviderSimulator]]:
    with ProviderSimulator() as openai_sim, ProviderSimulator() as anthropic_sim:
        yield openai_sim, anthropic_sim


@pytest.fixture(scope="module")
def dead_endpoints() -> Iterator[dict[str, str]]:
    """OTLP endpoint URLs: one refuses connections, one accepts them at the TCP level and never answers."""
    refused, unresponsive = socket.socket(), socket.socket()
    for sock in (refused, unresponsive):
        sock.bind(("127.0.0.1", 0))  # bound, so no one else takes the port ...
    unresponsive.listen(16)  # ... and this one listening, but nobody ever accepts or reads
    try:
        yield {
            name: f"http://127.0.0.1:{sock.getsockname()[1]}"
            for name, sock in (("refused", refused), ("unresponsive", unresponsive))
        }
    finally:
        refused.close()
        unresponsive.close()


def _env(sims: tuple[ProviderSimulator, ProviderSimulator], endpoint: str) -> dict[str, str]:
    openai_sim, anthropic_sim = sims
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        APP_OPENAI_URL=openai_sim.url,
        APP_ANTHROPIC_URL=anthropic_sim.url,
        LLMOBSERVE_PROVIDER_HOSTS=f"{openai_sim.host_port}=openai,{anthropic_sim.host_port}=anthropic",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_TIMEOUT="2",  # seconds, per export request (the Python exporter's unit)
        PYTHONWARNINGS="ignore::DeprecationWarning",
    )
    return env


def _canonical_json(raw: bytes) -> bytes:
    """The simulator writes compact JSON; any byte added, lost or changed breaks this round trip."""
    return json.dumps(json.loads(raw), separators=(",", ":")).encode()


def _check_sse(raw: bytes) -> list[dict]:
    """Every event is `data: <compact JSON>` + a blank line, ending with `data: [DONE]`."""
    assert raw.endswith(b"data: [DONE]\n\n")
    blocks = raw.split(b"\n\n")
    assert blocks[-1] == b""
    events = []
    for block in blocks[:-2]:
        assert block.startswith(b"data: "), block
        payload = block[len(b"data: ") :]
        assert _canonical_json(payload) == payload
        events.append(json.loads(payload))
    assert blocks[-2] == b"data: [DONE]"
    return events


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    exited_at: float  # time.time() when the process had exited


def _finish(proc: subprocess.Popen) -> Result:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return Result(proc.returncode, out, err, time.time())


@pytest.fixture(scope="module")
def results(sims, dead_endpoints) -> dict[tuple[str, str], Result]:
    """Every (endpoint, mode) run, launched at once: each is mostly waiting on its dead endpoint."""
    script = str(APPS / "dead_collector_app.py")
    argv = {
        "observe": [sys.executable, script],
        "llmobserve-otel-run": [str(BIN / "llmobserve-otel"), "run", "--", "python", script],
    }
    procs = {
        (endpoint, mode): subprocess.Popen(
            argv[mode],
            env=_env(sims, url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for endpoint, url in dead_endpoints.items()
        for mode in argv
    }
    with ThreadPoolExecutor(len(procs)) as pool:  # one waiter each, so every exit time is exact
        futures = {key: pool.submit(_finish, proc) for key, proc in procs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("mode", ["observe", "llmobserve-otel-run"])
@pytest.mark.parametrize("endpoint", ["refused", "unresponsive"])
def test_dead_collector(results, endpoint, mode):
    proc = results[endpoint, mode]
    assert proc.returncode == 0, proc.stderr
    # The failure is visible: the exporter says it could not export.
    assert "Failed to export spans" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # Exit is prompt: from the app's last call to the process's end (the final export attempt,
    # bounded by OTEL_EXPORTER_OTLP_TIMEOUT=2 s and its retries) stays well under the bound,
    # measured this way so that start-up on a loaded machine does not count.
    shutdown = proc.exited_at - out["calls_done_at"]
    assert 0 <= shutdown < MAX_SECONDS, f"exit took {shutdown:.1f}s after the calls\n{proc.stderr}"

    chat = base64.b64decode(out["chat"]["raw"])
    assert int(out["chat"]["content_length"]) == len(chat)
    assert _canonical_json(chat) == chat
    assert json.loads(chat)["usage"]["prompt_tokens"] == 10
    assert out["chat"]["text"] == "This is a simulated reply to: Still there?"

    assert out["sdk_stream"]["text"].startswith("This is a simulated reply to: Stream anyway.")
    events = _check_sse(base64.b64decode(out["stream"]["raw"]))
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
    assert text.startswith("This is a simulated reply to: Stream anyway.")
    assert events[-1]["usage"]["completion_tokens"] == 3

    message = base64.b64decode(out["message"]["raw"])
    assert int(out["message"]["content_length"]) == len(message)
    assert _canonical_json(message) == message
    assert json.loads(message)["usage"] == {
        "input_tokens": 4,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 2,
        "service_tier": "standard",
    }
    assert out["message"]["text"] == "This is a simulated reply to: And you?"
