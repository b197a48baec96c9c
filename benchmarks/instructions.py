"""Instructions llmobserve-otel adds per openai SDK call, counted exactly with callgrind.

The wall-clock benchmark (overhead.py) is at the mercy of a shared machine; this one is not. Each
worker runs the openai SDK (httpx2 client, its real transport) over an in-process fake connection
pool that answers with the provider simulator's own chat-completion JSON and SSE bytes (built once
with the simulator's functions: no network, no server). Under valgrind's callgrind with
instrumentation off at start, the worker warms up, then counts the instructions of N calls and a
flush of the span pipeline (every thread, the export thread included) through callgrind's client
requests (a tiny C helper built with the system compiler). Python and hash seed are fixed, and
what start-up and warm-up left on the heap is frozen out of the garbage collector before counting
(`gc.freeze()`), so counts repeat to about a thousand instructions per call.

Modes: ``baseline`` (no instrumentation), ``llmobserve`` (``observe()`` plus a BatchSpanProcessor
to an exporter that drops the spans, as overhead.py sets it up), ``openai-v2`` (the same pipeline
with opentelemetry-instrumentation-openai-v2), ``span`` (the floor: the llmobserve process
with no SDK call, only a bare ``tracer.start_span(...)`` then ``span.end()`` through the same
processors and export: what a span costs before any attribute) and ``span-sdk`` (the same span
with the OpenTelemetry SDK alone: its TracerProvider and the batch export processor, none of ours).

    .venv/bin/python benchmarks/instructions.py                 # all modes, both call kinds
    .venv/bin/python benchmarks/instructions.py --modes baseline llmobserve --calls 100
    .venv/bin/python benchmarks/instructions.py --keep /tmp/cg  # keep the dumps for callgrind_annotate

Needs valgrind, gcc and valgrind's headers (Debian: valgrind, gcc).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODES = ("baseline", "llmobserve", "openai-v2", "span", "span-sdk")
KINDS = ("non-stream", "stream")
HOST = "127.0.0.1:8001"

_HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void cg_stop(const char *name) { CALLGRIND_DUMP_STATS_AT(name); CALLGRIND_STOP_INSTRUMENTATION; }
"""


def _helper(build_dir: Path) -> Path:
    """Compile the client-request helper (inline asm: Python cannot issue it by itself)."""
    source, library = build_dir / "cg_helper.c", build_dir / "cg_helper.so"
    if not library.exists():
        source.write_text(_HELPER_C)
        subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


# ---------------------------------------------------------------------------------------------
# Worker (runs under callgrind)
# ---------------------------------------------------------------------------------------------


def _responses(events: int) -> tuple[bytes, list[bytes]]:
    """The simulator's answer to overhead.py's request: JSON body, and SSE frames for the stream."""
    from overhead import MESSAGES, MODEL, USAGE_HEADER

    from llmobserve_otel.testing import simulator as sim

    headers = {"x-sim-usage": USAGE_HEADER, "x-sim-events": str(events)}
    body: dict[str, Any] = {"model": MODEL, "messages": MESSAGES}
    call = sim._build_call("/v1/chat/completions", body, headers, sim._Faults.parse(None))
    json_body = sim._dumps(sim._chat_completions(call))  # type: ignore[arg-type]
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    call = sim._build_call("/v1/chat/completions", stream_body, headers, sim._Faults.parse(None))
    frames = sim._encode_stream(sim._chat_completions(call), call.faults)  # type: ignore[arg-type]
    return json_body, frames


class _FakePool:
    """Stands in for httpcore2's ConnectionPool: reads the request body, answers from memory."""

    def __init__(self, json_body: bytes, frames: list[bytes]) -> None:
        self._json_head = [
            (b"Server", b"BaseHTTP/0.6 Python/3.11.7"),
            (b"Date", b"Fri, 27 Nov 2026 01:00:00 GMT"),
            (b"x-request-id", b"req_sim00000001"),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(json_body)).encode()),
        ]
        self._stream_head = [
            *self._json_head[:3],
            (b"Content-Type", b"text/event-stream; charset=utf-8"),
            (b"Cache-Control", b"no-cache"),
            (b"Transfer-Encoding", b"chunked"),
        ]
        self._json_body, self._frames = json_body, frames

    def handle_request(self, request: Any) -> Any:
        import httpcore2

        body = b"".join(request.stream)
        stream = b'"stream":true' in body
        return httpcore2.Response(
            200,
            headers=self._stream_head if stream else self._json_head,
            content=iter(self._frames) if stream else iter([self._json_body]),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b"OK"},
        )

    def close(self) -> None:
        pass


def _setup(mode: str) -> tuple[Callable[[], None], Any]:
    """Instrument this process for `mode` as overhead.py does; (flush, tracer provider or None)."""
    import overhead

    if mode == "baseline":
        import openai  # noqa: F401

        return lambda: None, None
    if mode == "span-sdk":  # the OpenTelemetry SDK alone: its own provider, the export processor only
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(overhead._exporter(False)))
        trace.set_tracer_provider(provider)
        return lambda: provider.force_flush(), provider
    port = int(HOST.rpartition(":")[2])
    flush, _exporter = overhead._setup("llmobserve" if mode == "span" else mode, port, encode=False)
    from opentelemetry import trace

    return flush, trace.get_tracer_provider()


def _caller(mode: str, kind: str, events: int) -> Callable[[], None]:
    import overhead

    if mode in ("span", "span-sdk"):
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind

        tracer = trace.get_tracer("instructions-floor")

        def bare_span() -> None:
            tracer.start_span(f"chat {overhead.MODEL}", kind=SpanKind.CLIENT).end()

        return bare_span
    json_body, frames = _responses(events)
    non_stream, stream = overhead._callers(int(HOST.rpartition(":")[2]), events)
    # The callers' client is in their closure: give its transport the fake pool.
    for cell in non_stream.__closure__ or ():
        if type(cell.cell_contents).__name__ == "OpenAI":
            client = cell.cell_contents
    client._client._transport._pool = _FakePool(json_body, frames)
    return non_stream if kind == "non-stream" else stream


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE))
    os.environ["LLMOBSERVE_PROVIDER_HOSTS"] = f"{HOST}=openai"
    flush, _provider = _setup(args.mode)
    call = _caller(args.mode, args.kind, args.events)
    helper = ctypes.CDLL(args.helper)
    for _ in range(args.warmup):
        call()
    flush()
    # Objects from start-up and warm-up out of the collector's way: otherwise whether a full
    # collection of that heap lands inside the counted calls moves a stream's count by ~100k.
    gc.collect()
    gc.freeze()
    helper.cg_start()
    for _ in range(args.calls):
        call()
    flush()
    helper.cg_stop(b"measured")


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

_TOTALS = re.compile(rb"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def _count(mode: str, kind: str, args: argparse.Namespace, out_dir: Path, helper: Path) -> int:
    """Instructions of `args.calls` calls (and the flush) in one callgrind worker."""
    prefix = out_dir / f"callgrind.{mode}.{kind}"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={prefix}.%p",
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--mode",
        mode,
        "--kind",
        kind,
        "--calls",
        str(args.calls),
        "--warmup",
        str(args.warmup),
        "--events",
        str(args.events),
        "--helper",
        str(helper),
    ]
    for old in out_dir.glob(f"callgrind.{mode}.{kind}.*"):
        old.unlink()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, env=env, stderr=subprocess.DEVNULL)
    dumps = [p for p in out_dir.glob(f"callgrind.{mode}.{kind}.*") if p.stat().st_size]
    counts = []
    for dump in dumps:
        text = dump.read_bytes()
        if b"Client Request: measured" in text.split(b"\nevents:", 1)[0]:
            found = _TOTALS.search(text)
            counts.append(int(found.group(1)) if found else 0)
    if len(counts) != 1:
        raise RuntimeError(f"expected one 'measured' dump for {mode}/{kind}, found {len(counts)}")
    return counts[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--calls", type=int, default=200, help="calls counted per worker (default 200)")
    parser.add_argument("--warmup", type=int, default=50, help="calls before counting (default 50)")
    parser.add_argument("--events", type=int, default=20, help="content events per stream (default 20)")
    parser.add_argument("--keep", type=Path, help="keep the callgrind dumps in this directory")
    parser.add_argument("--json", action="store_true", help="print the counts as one JSON line")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--kind", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--helper", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.keep or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        helper = _helper(Path(tmp))
        counts: dict[str, dict[str, float]] = {}
        for mode in args.modes:
            for kind in args.kinds:
                if mode.startswith("span") and kind == "stream":
                    continue  # the floor is the same span either way
                per_call = _count(mode, kind, args, out_dir, helper) / args.calls
                counts.setdefault(mode, {})[kind] = per_call
    if args.json:
        print(json.dumps(counts))
        return 0
    base = counts.get("baseline", {})
    print(
        f"instructions per call ({args.calls} calls after {args.warmup} warm-up; {args.events}-event streams)"
    )
    for mode, by_kind in counts.items():
        for kind, per_call in by_kind.items():
            added = ""
            if not mode.startswith(("baseline", "span")) and kind in base:
                added = f"  (+{(per_call - base[kind]) / 1000:,.0f}k over baseline)"
            print(f"  {mode:<11} {kind:<10} {per_call / 1000:>9,.0f}k{added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
