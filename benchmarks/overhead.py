"""SDK overhead of llmobserve-otel on real openai SDK calls, against the local provider simulator.

Three modes, each in its own subprocess (instrumentation is process-global), taking turns block
by block in the same run:

* ``baseline``: the openai SDK with no instrumentation;
* ``llmobserve``: ``llmobserve_otel.observe()`` (wire capture; the simulator host is mapped with
  ``LLMOBSERVE_PROVIDER_HOSTS``, ``OTEL_TRACES_EXPORTER=none``) plus a BatchSpanProcessor to an
  exporter that drops the spans;
* ``openai-v2``: ``opentelemetry-instrumentation-openai-v2`` with the same exporter pipeline.

The simulator runs in a separate process, so the CPU time measured (``time.process_time``, all
threads of the client process, the span export thread included) is the client's alone.

Run everything (about 2-3 minutes on 2 cores) and update benchmarks/README.md::

    .venv/bin/python benchmarks/overhead.py

One worker, for a quick look or a profile (needs a running simulator)::

    .venv/bin/python -m llmobserve_otel.testing.simulator --port 8001 &
    .venv/bin/python benchmarks/overhead.py --mode llmobserve --port 8001 --calls 300 \
        --profile /tmp/llmobserve.prof
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MODES = ("baseline", "llmobserve", "openai-v2")
INSTRUMENTED = MODES[1:]
MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a concise support assistant."},
    {"role": "user", "content": "Summarise the refund policy for an annual plan in two sentences."},
]
USAGE_HEADER = json.dumps({"input_tokens": 250, "output_tokens": 20, "cached_tokens": 64})
README = Path(__file__).resolve().parent / "README.md"
SECTION = "## SDK overhead (benchmarks/overhead.py)"

# Targets from the issue (llmobserve mode, vs baseline, on a 2-core machine).
TARGET_NS_WALL_US = 100.0
TARGET_NS_CPU_US = 150.0
TARGET_STREAM_US = 150.0
TARGET_RSS_MB = 10.0
TARGET_IMPORT_MS = 60.0
TARGET_OBSERVE_MS = 50.0


# ---------------------------------------------------------------------------------------------
# Worker: one mode in this process, prints one JSON line
# ---------------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    """Current resident set size (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _exporter(encode: bool) -> Any:
    """A span exporter that drops what it gets (after OTLP protobuf encoding when `encode`)."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    encoder: Callable[[Any], Any] | None = None
    if encode:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        encoder = encode_spans

    class DropExporter(SpanExporter):
        def __init__(self) -> None:
            self.spans = 0
            self.with_usage = 0

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            self.spans += len(spans)
            self.with_usage += sum(1 for s in spans if "gen_ai.usage.output_tokens" in (s.attributes or {}))
            if encoder is not None:
                encoder(spans).SerializeToString()
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return True

    return DropExporter()


def _openai_v2_compat() -> None:
    """Alias two APIs that opentelemetry-util-genai renamed after openai-v2 2.4b0 was released.

    openai-v2 2.4b0 imports `opentelemetry.util.genai.instruments` and calls
    `TelemetryHandler.start_inference`; util-genai 1.x has `_instruments._Instruments` and
    `TelemetryHandler.inference` (same behaviour: starts the span). No-op on matching versions.
    """
    try:
        import opentelemetry.util.genai.instruments  # noqa: F401
    except ImportError:
        from opentelemetry.util.genai._instruments import _Instruments

        shim = types.ModuleType("opentelemetry.util.genai.instruments")
        shim.create_duration_histogram = lambda meter: _Instruments(meter).operation_duration  # type: ignore[attr-defined]
        shim.create_token_histogram = lambda meter: _Instruments(meter).token_usage  # type: ignore[attr-defined]
        sys.modules[shim.__name__] = shim
    from opentelemetry.util.genai.handler import TelemetryHandler

    if not hasattr(TelemetryHandler, "start_inference") and hasattr(TelemetryHandler, "inference"):
        TelemetryHandler.start_inference = TelemetryHandler.inference  # type: ignore[attr-defined]


def _setup(mode: str, port: int, encode: bool) -> tuple[Callable[[], None], Any]:
    """Instrument this process for `mode`; returns (flush, exporter or None)."""
    if mode == "baseline":
        return lambda: None, None
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = _exporter(encode)
    if mode == "llmobserve":
        os.environ.setdefault("LLMOBSERVE_PROVIDER_HOSTS", f"127.0.0.1:{port}=openai")
        os.environ.setdefault("OTEL_TRACES_EXPORTER", "none")
        import openai  # noqa: F401  (a real app has its libraries imported)

        import llmobserve_otel

        provider: Any = llmobserve_otel.observe(service_name="overhead-bench")
    else:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        _openai_v2_compat()
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        OpenAIInstrumentor().instrument(tracer_provider=provider)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return lambda: provider.force_flush(), exporter


def _callers(port: int, events: int) -> tuple[Callable[[], None], Callable[[], None]]:
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-bench", max_retries=0)
    headers = {"x-sim-usage": USAGE_HEADER, "x-sim-events": str(events)}

    def non_stream() -> None:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_headers=headers)  # type: ignore[arg-type]

    def stream() -> None:
        chunks = client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers,
        )
        for _ in chunks:
            pass

    return non_stream, stream


def _block(call: Callable[[], None], n: int, flush: Callable[[], None]) -> tuple[float, float]:
    """`n` calls then a flush of the span pipeline; per-call wall and CPU in µs.

    The flush is inside the timed region, so the export thread's work (process_time counts every
    thread of the process) is charged to the calls that caused it.
    """
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        call()
    flush()
    return (time.perf_counter() - wall0) / n * 1e6, (time.process_time() - cpu0) / n * 1e6


class _Client:
    """This process, instrumented for one mode, with its two kinds of calls warmed up."""

    def __init__(self, args: argparse.Namespace) -> None:
        if args.cpus:
            os.sched_setaffinity(0, {int(cpu) for cpu in args.cpus.split(",")})
        self.flush, self._exporter = _setup(args.mode, args.port, args.export == "encode")
        non_stream, stream = _callers(args.port, args.events)
        self.kinds = {"non_stream": non_stream, "stream": stream}
        self.calls_made = 0
        for _ in range(args.warmup):
            non_stream()
            stream()
        self.calls_made += 2 * args.warmup
        self.flush()
        gc.collect()

    def block(self, kind: str, n: int) -> tuple[float, float]:
        self.calls_made += n
        return _block(self.kinds[kind], n, self.flush)

    def info(self) -> dict[str, Any]:
        """Call and span counts: every call must have produced one span with usage."""
        result: dict[str, Any] = {"pid": os.getpid(), "calls_made": self.calls_made}
        if self._exporter is not None:
            self.flush()
            result.update(spans=self._exporter.spans, spans_with_usage=self._exporter.with_usage)
        return result


def run_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Standalone worker: timed blocks (median and mean over blocks) or the RSS repetition."""
    client = _Client(args)
    result: dict[str, Any] = {"mode": args.mode}
    if args.rss:
        non_stream, stream = client.kinds["non_stream"], client.kinds["stream"]
        rss = [_rss_bytes()]
        for half in (args.calls // 2, args.calls - args.calls // 2):
            for index in range(half):
                (stream if index % args.rss_stream_every == 0 else non_stream)()
            client.calls_made += half
            client.flush()
            gc.collect()
            rss.append(_rss_bytes())
        result.update(
            rss_after_warmup_mb=rss[0] / 2**20,
            rss_growth_mb=(rss[2] - rss[0]) / 2**20,
            rss_growth_second_half_mb=(rss[2] - rss[1]) / 2**20,
        )
    else:
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        blocks: dict[str, list[tuple[float, float]]] = {kind: [] for kind in client.kinds}
        for start in range(0, args.calls, args.block):
            for kind in client.kinds:
                blocks[kind].append(client.block(kind, min(args.block, args.calls - start)))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        for kind, values in blocks.items():
            result[kind] = {
                "wall_us": statistics.median(wall for wall, _ in values),
                "cpu_us": statistics.median(cpu for _, cpu in values),
                "wall_us_mean": statistics.fmean(wall for wall, _ in values),
                "cpu_us_mean": statistics.fmean(cpu for _, cpu in values),
            }
    result.update(client.info())
    return result


def serve_worker(args: argparse.Namespace) -> None:
    """Worker driven by the orchestrator, one line per command on stdin, one JSON line back.

    `block KIND N` runs a timed block; `quit` answers the call and span counts and exits. Idle
    workers wait on stdin and cost nothing, so the modes can take turns block by block.
    """
    client = _Client(args)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[:1] == ["block"]:
            wall, cpu = client.block(command[1], int(command[2]))
            print(json.dumps({"wall_us": wall, "cpu_us": cpu}), flush=True)
        elif command[:1] == ["quit"]:
            print(json.dumps(client.info()), flush=True)
            return


# ---------------------------------------------------------------------------------------------
# Start-up costs: fresh interpreters, nothing but `time` imported before the timed statement
# ---------------------------------------------------------------------------------------------

STARTUP_SNIPPETS: dict[str, str] = {
    "import": (
        "import time; t = time.perf_counter(); import llmobserve_otel; print(time.perf_counter() - t)"
    ),
    "observe_after_openai": (
        "import time, openai, llmobserve_otel; t = time.perf_counter(); "
        "llmobserve_otel.observe(); print(time.perf_counter() - t)"
    ),
    "observe_bare": (
        "import time, llmobserve_otel; t = time.perf_counter(); "
        "llmobserve_otel.observe(); print(time.perf_counter() - t)"
    ),
}


def _startup_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    # Let the warm-up round write .pyc files (gitignored), as an installed package has them.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env  # default exporter config: OTLP/HTTP, built lazily; nothing is exported


def measure_startup(reps: int, cpus: set[int] | None) -> dict[str, list[float]]:
    env = _startup_env()
    times: dict[str, list[float]] = {name: [] for name in STARTUP_SNIPPETS}
    for rep in range(reps + 1):  # the first round only warms the .pyc and page caches
        for name, snippet in STARTUP_SNIPPETS.items():
            # os is loaded at interpreter start-up anyway; pinning costs nothing measurable.
            pin = f"import os; os.sched_setaffinity(0, {sorted(cpus)}); " if cpus else ""
            out = subprocess.run(
                [sys.executable, "-c", pin + snippet], env=env, capture_output=True, text=True, check=True
            )
            if rep:
                times[name].append(float(out.stdout.strip().splitlines()[-1]) * 1e3)
    return times


# ---------------------------------------------------------------------------------------------
# Orchestrator
# ---------------------------------------------------------------------------------------------


class Simulator:
    """The provider simulator in its own process (its CPU stays out of the client's)."""

    def __init__(self, cpus: set[int] | None = None) -> None:
        # Lives as long as the simulator; closed in stop().
        self._log = tempfile.NamedTemporaryFile(prefix="overhead-sim-", suffix=".log", delete=False)  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "llmobserve_otel.testing.simulator", "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        if cpus:
            os.sched_setaffinity(self._proc.pid, cpus)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            match = re.search(r"http://127\.0\.0\.1:(\d+)", Path(self._log.name).read_text())
            if match:
                self.port = int(match.group(1))
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"simulator did not start: {Path(self._log.name).read_text()}")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)


def _worker_command(mode: str, port: int, args: argparse.Namespace, *, calls: int = 0) -> list[str]:
    command = [
        sys.executable,
        __file__,
        "--mode",
        mode,
        "--port",
        str(port),
        "--warmup",
        str(args.warmup),
        "--events",
        str(args.events),
        "--export",
        args.export,
    ]
    if calls:  # the RSS repetition, unpinned (memory does not care which CPU)
        return [*command, "--rss", "--calls", str(calls), "--rss-stream-every", str(args.rss_stream_every)]
    command.append("--serve")
    if args.client_cpus:
        command += ["--cpus", ",".join(map(str, sorted(args.client_cpus)))]
    return command


def _worker_env(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "LLMOBSERVE_PROVIDER_HOSTS": f"127.0.0.1:{port}=openai",
        "OTEL_TRACES_EXPORTER": "none",
    }


def _check_spans(mode: str, info: dict[str, Any]) -> None:
    if mode in INSTRUMENTED and info.get("spans_with_usage") != info["calls_made"]:
        print(
            f"  warning: {mode} exported {info.get('spans_with_usage')} spans with usage "
            f"for {info['calls_made']} calls",
            file=sys.stderr,
        )


class _Served:
    """A `--serve` worker subprocess."""

    def __init__(self, mode: str, port: int, args: argparse.Namespace) -> None:
        self.mode = mode
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self._proc = subprocess.Popen(
            _worker_command(mode, port, args),
            env=_worker_env(port),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def _ask(self, command: str | None) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        if command is not None:
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            raise RuntimeError(f"{self.mode} worker died:\n{self._stderr.read().decode(errors='replace')}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ready(self) -> None:
        self._ask(None)

    def block(self, kind: str, n: int) -> tuple[float, float]:
        answer = self._ask(f"block {kind} {n}")
        return answer["wall_us"], answer["cpu_us"]

    def close(self) -> dict[str, Any]:
        try:
            info = self._ask("quit")
            self._proc.wait(timeout=30)
            return info
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._stderr.close()


def _rotated(items: Sequence[str], shift: int) -> list[str]:
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def _timing_rep(rep: int, port: int, args: argparse.Namespace) -> dict[str, Any]:
    """One repetition: a fresh worker per mode; the modes take turns block by block.

    Returns per mode and kind the list of (wall µs, CPU µs) per block; block i of every mode
    ran within the same round, a few hundred ms apart, so they can be compared pairwise.
    """
    workers = {mode: _Served(mode, port, args) for mode in _rotated(MODES, rep)}
    blocks: dict[str, dict[str, list[tuple[float, float]]]] = {
        mode: {"non_stream": [], "stream": []} for mode in MODES
    }
    infos = {}
    try:
        for worker in workers.values():
            worker.ready()
        for index, start in enumerate(range(0, args.calls, args.block)):
            n = min(args.block, args.calls - start)
            for kind in ("non_stream", "stream"):
                for mode in _rotated(MODES, rep + index):
                    blocks[mode][kind].append(workers[mode].block(kind, n))
    finally:
        for mode, worker in workers.items():
            infos[mode] = worker.close()
    for mode, info in infos.items():
        _check_spans(mode, info)
    return {"blocks": blocks, "workers": infos}


def _run_rss(port: int, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The RSS repetitions of all modes at once (memory does not care about timing)."""
    procs = {
        mode: subprocess.Popen(
            _worker_command(mode, port, args, calls=args.rss_calls),
            env=_worker_env(port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in MODES
    }
    results = {}
    for mode, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} RSS worker failed:\n{stderr}")
        results[mode] = json.loads(stdout.strip().splitlines()[-1])
        _check_spans(mode, results[mode])
    return results


def _cpu_plan(pin: str) -> tuple[set[int] | None, set[int] | None]:
    """(simulator CPUs, client CPUs) for --pin."""
    if pin == "none" or not hasattr(os, "sched_setaffinity"):
        return None, None
    allowed = sorted(os.sched_getaffinity(0))
    if pin == "same" or len(allowed) < 2:
        return {allowed[-1]}, {allowed[-1]}
    return {allowed[-1]}, set(allowed[:-1])


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    reps: list[dict[str, Any]] = []
    rss: dict[str, dict[str, Any]] = {}
    simulator = Simulator(args.simulator_cpus)
    try:
        for rep in range(args.reps):
            reps.append(_timing_rep(rep, simulator.port, args))
            _progress(f"timing rep {rep + 1}/{args.reps} done ({time.monotonic() - started:.0f} s)")
        if args.rss_calls:
            rss = _run_rss(simulator.port, args)
            _progress(f"RSS repetitions done ({time.monotonic() - started:.0f} s)")
    finally:
        simulator.stop()
    startup = measure_startup(args.startup_reps, args.client_cpus) if args.startup_reps else {}
    _progress(f"start-up timings done ({time.monotonic() - started:.0f} s)")
    return {"reps": reps, "rss": rss, "startup": startup, "seconds": time.monotonic() - started}


_METRIC = {"wall_us": 0, "cpu_us": 1}


def _per_rep(results: dict[str, Any], mode: str, kind: str, metric: str) -> list[float]:
    """Per repetition: the median block of `mode`."""
    i = _METRIC[metric]
    return [statistics.median(b[i] for b in rep["blocks"][mode][kind]) for rep in results["reps"]]


def _paired(results: dict[str, Any], mode: str, kind: str, metric: str) -> list[float]:
    """Per repetition: the median over rounds of (mode's block - the baseline's block)."""
    i = _METRIC[metric]
    return [
        statistics.median(
            ours[i] - base[i]
            for ours, base in zip(rep["blocks"][mode][kind], rep["blocks"]["baseline"][kind], strict=True)
        )
        for rep in results["reps"]
    ]


def _delta(values: list[float]) -> str:
    return f"{statistics.median(values):+.0f} ({min(values):+.0f} … {max(values):+.0f})"


def _verdict(value: float, target: float) -> str:
    return "yes" if round(value, 1) <= target else "**no**"  # as displayed


def render_table(results: dict[str, Any]) -> str:
    rows = [
        "| Metric | baseline | llmobserve | openai-v2 | Target (llmobserve) | Met |",
        "|---|---|---|---|---|---|",
    ]
    for kind, label in (("non_stream", "Non-streaming call"), ("stream", "Stream, 20 events + usage")):
        for metric, unit in (("wall_us", "wall µs"), ("cpu_us", "CPU µs")):
            base = statistics.median(_per_rep(results, "baseline", kind, metric))
            deltas = {mode: _paired(results, mode, kind, metric) for mode in INSTRUMENTED}
            if kind == "non_stream":
                target = TARGET_NS_WALL_US if metric == "wall_us" else TARGET_NS_CPU_US
            else:
                target = TARGET_STREAM_US
            ours = statistics.median(deltas["llmobserve"])
            rows.append(
                f"| {label}, {unit} | {base:.0f} | {_delta(deltas['llmobserve'])} | "
                f"{_delta(deltas['openai-v2'])} | ≤ +{target:.0f} | {_verdict(ours, target)} |"
            )
    if results["rss"]:
        rss = results["rss"]
        cells = {
            mode: f"{rss[mode]['rss_growth_mb']:+.1f} (2nd half {rss[mode]['rss_growth_second_half_mb']:+.1f})"
            for mode in MODES
        }
        ours = rss["llmobserve"]["rss_growth_mb"]
        rows.append(
            f"| RSS growth over {results['rss_calls']:,} calls, MB | {cells['baseline']} | "
            f"{cells['llmobserve']} | {cells['openai-v2']} | ≤ +{TARGET_RSS_MB:.0f} | "
            f"{_verdict(ours, TARGET_RSS_MB)} |"
        )
        after = {mode: rss[mode]["rss_after_warmup_mb"] for mode in MODES}
        rows.append(
            f"| RSS after warm-up, MB | {after['baseline']:.1f} | {after['llmobserve']:.1f} "
            f"({after['llmobserve'] - after['baseline']:+.1f}) | {after['openai-v2']:.1f} "
            f"({after['openai-v2'] - after['baseline']:+.1f}) | - | - |"
        )
    startup = results["startup"]
    for name, label, target in (
        ("import", "`import llmobserve_otel`, ms", TARGET_IMPORT_MS),
        ("observe_after_openai", "`observe()` after `import openai`, ms", TARGET_OBSERVE_MS),
        ("observe_bare", "`observe()` with nothing else imported, ms", TARGET_OBSERVE_MS),
    ):
        if name in startup:
            values = startup[name]
            median = statistics.median(values)
            rows.append(
                f"| {label} | - | {median:.1f} ({min(values):.1f} … {max(values):.1f}) | - | "
                f"≤ {target:.0f} | {_verdict(median, target)} |"
            )
    return "\n".join(rows)


def _machine_note() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {load} (machine shared with "
        "other jobs, so figures are directional)"
    )


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("openai", "httpx2", "opentelemetry-sdk", "opentelemetry-instrumentation-openai-v2"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} (absent)")
    return ", ".join(parts)


def render_section(results: dict[str, Any], command: str, machine: str) -> str:
    sim, client = results["simulator_cpus"], results["client_cpus"]
    if not client:
        pinning = "no CPU pinning"
    elif sim == client:
        pinning = f"simulator and timed clients pinned to CPU {sim}"
    else:
        pinning = f"simulator pinned to CPU {sim}, timed clients to CPU {client}"
    return f"""{SECTION}

What llmobserve-otel adds to a real openai SDK call, next to a bare SDK (`baseline`) and to
`opentelemetry-instrumentation-openai-v2` (`openai-v2`), against the local provider simulator.

- Command: `{command}` (`make bench` runs it with the defaults)
- Date: {results["date"]}; run time {results["seconds"]:.0f} s
- Machine: {machine}; {pinning}
- Versions: {_versions()}
- Settings: {results["repetitions"]} repetitions; in each, every mode makes {results["calls"]:,} \
non-streaming and {results["calls"]:,} streaming chat completions (blocks of {results["block"]}) \
after {results["warmup"]} warm-up calls of each; streams have {results["events"]} content events and \
`include_usage`; span export `{results["export"]}`

{results["table"]}

The baseline column is absolute. The llmobserve and openai-v2 cells are differences from the
baseline: the median over repetitions of the per-repetition median of paired block differences
(see below), then (min … max over repetitions). CPU is `time.process_time` of the client process:
every thread, so the span export thread counts; the simulator's CPU does not.

**How to read.** Each repetition starts a fresh subprocess per mode (instrumentation is
process-global); the provider simulator runs in its own process. Each worker first makes warm-up
calls (connection pool, price catalogue, first-call imports), then the three workers take turns,
block by block in a rotating order, so block *i* of every mode runs within the same fraction of a
second and is compared with the baseline's block *i*: drift and bursts of other load on the shared
machine hit the modes alike. Each block ends with a flush of the span pipeline (a
BatchSpanProcessor to an exporter that drops the spans; `--export encode` encodes them to OTLP
protobuf first), so the export work is charged to the calls. What the instrumentation adds to a
call is on that call's critical path, so the wall and CPU differences should agree; when they do
not, the wall row is the noisy one (on loopback in a VM, wall time also depends on when the kernel
wakes the client and the simulator): read the CPU rows first. The RSS repetitions run separately,
all modes at once and unpinned (memory does not care about timing): RSS after warm-up versus after
the calls (1 in {results["rss_stream_every"]} a stream), each after a flush and `gc.collect()`; a
"2nd half" near zero means the growth is a one-off, not a leak. Start-up costs are medians over
fresh interpreters that import only `time` before the timed statement, with the default exporter
configuration (OTLP/HTTP, built lazily, nothing sent). All figures are directional: the loopback
simulator makes a call far cheaper than a real one, so relative overhead looks much larger than in
production, and the machine is shared. They are not CI thresholds.

The installed openai-v2 predates the installed opentelemetry-util-genai, which renamed two of the
APIs it calls; the benchmark aliases them (`_openai_v2_compat`) so that it runs. No metrics or
logs SDK is set up, so openai-v2's metrics calls are no-ops here.
"""


def update_readme(section: str, path: Path = README) -> None:
    """Replace (or append) this benchmark's section; other sections stay as they are."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = re.search(r"^## ", text[start + len(SECTION) :], flags=re.MULTILINE)
        end = start + len(SECTION) + following.start() if following else len(text)
        rest = text[end:]
        text = text[:start] + section + ("\n" + rest if rest else "")
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(
            "SDK overhead of llmobserve-otel vs a bare openai SDK and openai-v2, against the local "
            "provider simulator. Without --mode: the full alternating run, a markdown table on "
            "stdout and in benchmarks/README.md. With --mode: one worker, one JSON line."
        )
    )
    parser.add_argument("--mode", choices=MODES, help="run one worker in this process (needs --port)")
    parser.add_argument("--port", type=int, help="simulator port (worker mode)")
    parser.add_argument(
        "--calls", type=int, default=300, help="timed calls of each kind per worker (mode and repetition)"
    )
    parser.add_argument(
        "--block", type=int, default=25, help="calls per timed block (each ends with a span flush)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="warm-up calls of each kind per worker")
    parser.add_argument("--events", type=int, default=20, help="content events per stream (x-sim-events)")
    parser.add_argument(
        "--export",
        choices=("drop", "encode"),
        default="drop",
        help="drop spans in the exporter, or encode them to OTLP protobuf first",
    )
    parser.add_argument("--reps", type=int, default=5, help="timing repetitions per mode")
    parser.add_argument("--rss-calls", type=int, default=10_000, help="calls in the RSS repetition (0: skip)")
    parser.add_argument(
        "--rss-stream-every", type=int, default=10, help="in the RSS repetition, 1 call in N is a stream"
    )
    parser.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--startup-reps", type=int, default=7, help="fresh interpreters per start-up figure")
    parser.add_argument(
        "--pin",
        choices=("same", "split", "none"),
        default="same",
        help="CPU pinning: simulator and client on the last CPU (same), simulator on the last CPU "
        "and client on the others (split), or none",
    )
    parser.add_argument("--cpus", help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="PATH", help="worker mode: cProfile the timed calls to PATH")
    parser.add_argument("--no-readme", action="store_true", help="do not update benchmarks/README.md")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    args = parser.parse_args(argv)

    if args.mode:
        if args.port is None:
            parser.error("--mode needs --port of a running simulator")
        if args.serve:
            serve_worker(args)
        else:
            print(json.dumps(run_worker(args)))
        return 0

    args.simulator_cpus, args.client_cpus = _cpu_plan(args.pin)
    shown = list(argv if argv is not None else sys.argv[1:])
    for flag in ("--json", "--no-readme"):  # they change where results go, not the results
        while flag in shown:
            index = shown.index(flag)
            del shown[index : index + (2 if flag == "--json" else 1)]
    command = " ".join([".venv/bin/python benchmarks/overhead.py", *shown])
    machine = _machine_note()
    results = run_all(args)
    results.update(
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        repetitions=args.reps,
        calls=args.calls,
        warmup=args.warmup,
        events=args.events,
        export=args.export,
        rss_calls=args.rss_calls,
        rss_stream_every=args.rss_stream_every,
        block=args.block,
        simulator_cpus=sorted(args.simulator_cpus or ()),
        client_cpus=sorted(args.client_cpus or ()),
    )
    results["table"] = render_table(results)
    print(results["table"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not args.no_readme:
        update_readme(render_section(results, command, machine))
        print(f"\nupdated {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
