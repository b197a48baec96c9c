"""What `llmobserve-otel proxy` adds to a call: the same load direct to an upstream stub and through
the proxy, alternating in one run.

    .venv/bin/python benchmarks/proxy.py [--seconds 4] [--rounds 3] [--levels 1,50,200]

Load comes from `wrk` (closed loop, keep-alive connections; `apt-get install wrk`), stream
time-to-first-byte from `curl` (one keep-alive connection, `time_starttransfer - time_pretransfer`).
The upstream is a small asyncio stub on uvloop that answers a fixed OpenAI chat completion (JSON
with usage) or a stream whose first event comes at once and the rest 20 ms later; it also takes
the proxy's OTLP export, so the proxy does its whole job (parse usage, export spans). The proxy runs
as the real CLI with its defaults (no pricing). On a 2-core machine the proxy is pinned to CPU 0 and
the stub and the load generators to CPU 1, so the direct runs see an idle CPU 0.

Each level runs rounds of `direct`, `proxy`, `direct`, `proxy`, ... and reports medians over the
rounds; "added" is the median of per-round differences (proxy minus the direct run just before it).
Figures are directional (shared machine), not CI thresholds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.dumps(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}
)
STREAM_REQUEST = json.dumps(
    {
        "model": "gpt-4o-mini",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
    }
)

# --- the upstream stub (run as `proxy.py --stub PORT`) -------------------------------------------

_CHAT = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1764000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello, benchmark! " * 8, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 14,
            "completion_tokens": 24,
            "total_tokens": 38,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }
).encode()
_JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_bench\r\n"
    b"content-length: " + str(len(_CHAT)).encode() + b"\r\n\r\n" + _CHAT
)
_OTLP_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"


def _sse(payload: dict) -> bytes:
    data = b"data: " + json.dumps(payload).encode() + b"\n\n"
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


_BASE = {
    "id": "chatcmpl-bench",
    "object": "chat.completion.chunk",
    "created": 1764000000,
    "model": "gpt-4o-mini",
}
_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    + _sse(
        {
            **_BASE,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    )
)
_STREAM_REST = (
    b"".join(
        _sse({**_BASE, "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]})
        for i in range(10)
    )
    + _sse({**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    + _sse(
        {**_BASE, "choices": [], "usage": {"prompt_tokens": 14, "completion_tokens": 10, "total_tokens": 24}}
    )
    + b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"
)


class _Stub(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive server: reads head + Content-Length body, answers by path."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            path = head.split(b" ", 2)[1]
            if path.startswith(b"/v1/traces"):
                self.transport.write(_OTLP_RESPONSE)
            elif path.startswith(b"/stream"):
                self.transport.write(_STREAM_HEAD)
                asyncio.get_running_loop().call_later(0.02, self.transport.write, _STREAM_REST)
            else:
                self.transport.write(_JSON_RESPONSE)


def run_stub(port: int) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Stub, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- the runner ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


NICE: list[str] = []
"""`nice -n N` before every process of the run when --nice is given."""
SLICE_US = 0
"""--slice-us: the EEVDF time slice every process of the run asks for (0: the kernel's default)."""


def _short_slice() -> None:
    """In a child before exec: ask for a `SLICE_US` time slice (sched_setattr with SCHED_OTHER and
    sched_runtime, Linux 6.12+ EEVDF). A task with a shorter slice gets an earlier deadline, so when it
    wakes it preempts a CPU-bound neighbour instead of waiting out the neighbour's slice. Threads and
    exec'd programs inherit it. Best effort: older kernels ignore or refuse it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    attr = struct.pack("IIQiIQQQII", 56, 0, 0, nice, 0, SLICE_US * 1000, 0, 0, 0, 0)
    libc.syscall(314, 0, ctypes.create_string_buffer(attr, 56), 0)  # SYS_sched_setattr on x86-64


def _spawn_options() -> dict[str, object]:
    return {"preexec_fn": _short_slice} if SLICE_US and platform.machine() == "x86_64" else {}


def _pin(cpu: int) -> list[str]:
    pin = ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []
    return [*NICE, *pin]


_LUA = """
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local random_think = os.getenv("BENCH_THINK_RANDOM") == "1"
function init(args)
  -- A seed per thread (each has its own Lua state): the table's address differs.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%%x+)") or "0", 16) %% 1000003)
end
if think > 0 then
  if random_think then
    -- Exponential think time with the same mean: independent clients (Poisson arrivals).
    delay = function() return math.floor(-math.log(1 - math.random()) * think + 0.5) end
  else
    delay = function() return think end
  end
end
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", latency:percentile(50), latency:percentile(99),
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the proxy's `--workers` processes)."""
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*"):
            try:
                pids += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        i += 1
    return pids


def sched(pid: int | None) -> tuple[float, float]:
    """CPU time and time spent runnable but waiting for a CPU (run delay), seconds, summed over the
    threads of `pid` and its children: how much CPU the proxy used, and how much other processes on
    the shared machine held it back."""
    cpu = wait = 0.0
    if pid is None or not Path("/proc/self/schedstat").exists():
        return cpu, wait
    for proc in _tree(pid):
        for task in Path(f"/proc/{proc}/task").glob("*"):
            try:
                fields = (task / "schedstat").read_text().split()
            except OSError:
                continue
            cpu += int(fields[0]) / 1e9
            wait += int(fields[1]) / 1e9
    return cpu, wait


THINK_RANDOM = True
"""--think: paced clients wait a random (exponential) time between requests, else a fixed one."""


def wrk(
    url: str, connections: int, seconds: float, script: str, think_ms: int = 0, watch: int | None = None
) -> dict[str, float]:
    """One wrk run; with `think_ms` each connection waits that long between its requests (paced load)."""
    threads = 1 if connections == 1 else 2
    cpu0, wait0 = sched(watch)
    started = time.monotonic()
    out = subprocess.run(
        [
            *_pin(1),
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "BENCH_THINK_MS": str(think_ms),
            "BENCH_THINK_RANDOM": "1" if THINK_RANDOM else "0",
        },
        **_spawn_options(),  # type: ignore[arg-type]
    ).stdout
    wall = time.monotonic() - started
    cpu1, wait1 = sched(watch)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    p50, p99, requests, duration_us, errors = (int(x) for x in line.split()[1:])
    return {
        "p50_us": p50,
        "p99_us": p99,
        "rps": requests / (duration_us / 1e6),
        "errors": errors,
        "cpu_us": (cpu1 - cpu0) / max(1, requests) * 1e6,
        "wait_pct": (wait1 - wait0) / wall * 100,
    }


def ttfb(url: str, count: int) -> list[float]:
    """Time to first byte of `count` streamed responses on one keep-alive connection, µs."""
    out = subprocess.run(
        [
            *_pin(1),
            "curl",
            "-s",
            "-H",
            "content-type: application/json",
            "-d",
            STREAM_REQUEST,
            "-w",
            "%{time_pretransfer} %{time_starttransfer}\\n",
            *[arg for _ in range(count) for arg in ("-o", "/dev/null", url)],
        ],
        capture_output=True,
        text=True,
        check=True,
        **_spawn_options(),  # type: ignore[arg-type]
    ).stdout
    values = []
    for line in out.splitlines():
        pre, start = (float(x) for x in line.split())
        values.append((start - pre) * 1e6)
    return values


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stub", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one wrk round (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode and level (default 3)")
    parser.add_argument("--levels", default="1,50,200", help="concurrent connections (default 1,50,200)")
    parser.add_argument("--streams", type=int, default=300, help="streams per mode for TTFB (default 300)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="proxy processes (--workers); above 1 the proxy is not pinned and shares both CPUs",
    )
    parser.add_argument(
        "--export",
        choices=["otlp", "none"],
        default="otlp",
        help="the proxy's span export: OTLP/HTTP to the stub (default), or none (to see what export costs)",
    )
    parser.add_argument(
        "--paced-rps", type=int, default=1000, help="total request rate of the paced runs (default 1000)"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the stub, the proxy, wrk and curl at this nice level (negative needs root): on a "
        "machine shared with other jobs, fewer of their time slices land inside the measurement",
    )
    parser.add_argument(
        "--slice-us",
        type=int,
        default=0,
        help="EEVDF time slice, µs, for every process of the run (Linux 6.12+; e.g. 100): a woken "
        "process preempts CPU-bound neighbours sooner (default: the kernel's)",
    )
    parser.add_argument(
        "--think",
        choices=["random", "fixed"],
        default="random",
        help="paced clients' wait between requests: exponential with the mean that gives --paced-rps "
        "(default), or that mean every time (clients then tend to fall into step and arrive in bursts)",
    )
    args = parser.parse_args(argv)
    global SLICE_US, THINK_RANDOM
    SLICE_US = args.slice_us
    THINK_RANDOM = args.think == "random"
    if args.nice:
        NICE[:] = ["nice", "-n", str(args.nice)]
    if args.stub:
        run_stub(args.stub)
        return 0
    if not shutil.which("wrk"):
        print("benchmarks/proxy.py needs wrk (apt-get install wrk)", file=sys.stderr)
        return 1

    stub_port, proxy_port = _free_port(), _free_port()
    stub_url = f"http://127.0.0.1:{stub_port}"
    processes = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=stub_url, OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    env["OTEL_TRACES_EXPORTER"] = args.export
    try:
        processes.append(
            subprocess.Popen(
                [*_pin(1), sys.executable, __file__, "--stub", str(stub_port)],
                **_spawn_options(),  # type: ignore[arg-type]
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    *(_pin(0) if args.workers == 1 else NICE),
                    sys.executable,
                    "-m",
                    "llmobserve_otel",
                    "proxy",
                    "--workers",
                    str(args.workers),
                    "--port",
                    str(proxy_port),
                    "--upstream",
                    f"openai={stub_url}",
                ],
                env=env,
                **_spawn_options(),  # type: ignore[arg-type]
            )
        )
        _wait_port(stub_port)
        _wait_port(proxy_port)
        proxy_pid = processes[1].pid
        urls = {
            "direct": f"{stub_url}/v1/chat/completions",
            "proxy": f"http://127.0.0.1:{proxy_port}/openai/v1/chat/completions",
        }
        stream_urls = {
            "direct": f"{stub_url}/stream/v1/chat/completions",
            "proxy": f"http://127.0.0.1:{proxy_port}/_/http/127.0.0.1:{stub_port}/stream/v1/chat/completions",
        }
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_LUA % REQUEST)
        started = time.time()
        load = os.getloadavg()
        for mode in urls:  # warm-up: connections, first-call imports
            wrk(urls[mode], 50, 1, script.name)
        rows = []
        for level in (int(x) for x in args.levels.split(",")):
            # Saturating (each client sends again as soon as it has its answer), then, with more than
            # one client, paced at `--paced-rps` in total (what added latency means below capacity).
            # Paced clients think for a random time by default: with a fixed one, wrk's connections
            # fall into step by chance, and the same run measured a p99 of 4 ms or of 40 ms (a burst
            # of 200 requests queued behind each other) depending on whether they did.
            loads = [("saturating", 0)]
            if level > 1:
                loads.append((f"paced, {args.paced_rps:,} req/s", round(level * 1000 / args.paced_rps)))
            for load_name, think in loads:
                runs: dict[str, list[dict[str, float]]] = {"direct": [], "proxy": []}
                for _ in range(args.rounds):
                    for mode in ("direct", "proxy"):
                        runs[mode].append(
                            wrk(urls[mode], level, args.seconds, script.name, think, watch=proxy_pid)
                        )
                rows.append((level, load_name, runs))
        ttfbs: dict[str, list[float]] = {"direct": [], "proxy": []}
        block = max(1, args.streams // 6)
        for _ in range(6):
            for mode in ("direct", "proxy"):
                ttfbs[mode].extend(ttfb(stream_urls[mode], block))
        os.unlink(script.name)
    finally:
        for process in reversed(processes):  # the proxy first: its last export goes to the stub
            process.terminate()
            process.wait(30)

    med = statistics.median
    print(
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}; run time {time.time() - started:.0f} s"
    )
    print(
        f"- Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}; load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
    )
    print(
        f"- Proxy span export: {args.export}; proxy processes: {args.workers}"
        + (f"; every process at nice {args.nice}" if args.nice else "")
        + (f"; every process with a {args.slice_us} µs EEVDF slice" if args.slice_us else "")
        + f"; paced clients' think time {args.think}"
    )
    print(
        f"- Settings: {args.rounds} rounds of {args.seconds:g} s per mode and level; {6 * block} streams per mode\n"
    )
    end_load = os.getloadavg()
    print(f"- Load average at the end {end_load[0]:.2f}, {end_load[1]:.2f}, {end_load[2]:.2f}")
    print(
        "- Proxy CPU: its CPU time per request in the proxy runs (all its threads); CPU wait: the share"
        " of the run its threads were runnable but waiting for a CPU held by another process (median"
        " over rounds; with the proxy idle in the direct runs, the noise there is wrk's and the stub's)\n"
    )
    print(
        "| Clients | Load | direct p50 / p99, µs | proxy p50 / p99, µs | added p50 | added p99 "
        "| direct req/s | proxy req/s | proxy CPU / req, µs | proxy CPU wait | errors |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level, load_name, runs in rows:
        d, p = runs["direct"], runs["proxy"]
        added50 = med(b["p50_us"] - a["p50_us"] for a, b in zip(d, p, strict=True))
        added99 = med(b["p99_us"] - a["p99_us"] for a, b in zip(d, p, strict=True))
        errors = sum(r["errors"] for r in d + p)
        print(
            f"| {level} | {load_name} | {med(r['p50_us'] for r in d):.0f} / {med(r['p99_us'] for r in d):.0f} "
            f"| {med(r['p50_us'] for r in p):.0f} / {med(r['p99_us'] for r in p):.0f} "
            f"| +{added50 / 1000:.2f} ms | +{added99 / 1000:.2f} ms "
            f"| {med(r['rps'] for r in d):,.0f} | {med(r['rps'] for r in p):,.0f} "
            f"| {med(r['cpu_us'] for r in p):.0f} | {med(r['wait_pct'] for r in p):.0f}% | {errors} |"
        )
    d, p = ttfbs["direct"], ttfbs["proxy"]
    print(
        f"\n| Stream TTFB | direct µs | proxy µs | added |\n|---|---:|---:|---:|\n"
        f"| p50 | {med(d):.0f} | {med(p):.0f} | +{(med(p) - med(d)) / 1000:.2f} ms |\n"
        f"| p99 | {_pct(d, 99):.0f} | {_pct(p, 99):.0f} | +{(_pct(p, 99) - _pct(d, 99)) / 1000:.2f} ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
