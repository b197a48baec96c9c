"""`llmobserve-otel collector`: the local OTLP/HTTP collector with its embedded store."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from llmobserve_otel._internal.env import env_flag
from llmobserve_otel._internal.serving import is_loopback
from llmobserve_otel.store import DEFAULT_URL, ENV_URL, StoreError, resolve_url

ENV_TOKEN = "LLMOBSERVE_COLLECTOR_TOKEN"
ENV_PRICING = "LLMOBSERVE_COLLECTOR_PRICING"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "collector", help="run the local OTLP collector (prices spans, stores them)", description=cmd.__doc__
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=4318, help="port to bind (default: 4318, the OTLP/HTTP port)"
    )
    parser.add_argument(
        "--clickhouse-url",
        metavar="URL",
        help=f"store: chdb://PATH or http(s)://user:pass@host:8123/db (default: ${ENV_URL} or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--no-pricing",
        action="store_true",
        help=f"store spans as received, without pricing (also {ENV_PRICING}=false)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help=f"allow binding a non-loopback interface without ${ENV_TOKEN}",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50_000,
        help="spans per insert (default: 50000; ClickHouse likes few large inserts)",
    )
    parser.add_argument(
        "--flush-interval", type=float, default=1.0, help="seconds a span may wait for its batch (default: 1)"
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=200_000,
        help="spans held in memory before answering 503 (default: 200000)",
    )
    parser.add_argument(
        "--insert-threads",
        type=int,
        default=2,
        help="batches inserted side by side, each on its own store handle (default: 2; one insert "
        "into the embedded store keeps about 1.5 cores busy)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=20 * 1024 * 1024,
        help="largest request body, compressed or not (default: 20 MiB)",
    )
    parser.add_argument(
        "--dedupe-window",
        type=int,
        default=500_000,
        help="recently accepted spans remembered to drop retried copies (default: 500000)",
    )
    parser.add_argument(
        "--decode",
        choices=["sql", "python"],
        default="sql",
        help="who decodes protobuf spans for an embedded store: ClickHouse (sql, about 4x faster) or "
        "Python (the exact path JSON and ClickHouse servers always take) (default: sql)",
    )
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Run the local collector: OTLP/HTTP on 127.0.0.1:4318 (POST /v1/traces, protobuf or JSON,
    gzip or not) -> prices spans that carry usage but no cost -> ClickHouse, by default an embedded
    chDB store at ./.llmobserve/store. Point any OTel SDK at it with
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318. Metrics and logs sent to /v1/metrics and
    /v1/logs are accepted and discarded. The collector owns the store directory while it runs;
    `llmobserve-otel report` asks it. SIGTERM/Ctrl-C stores everything accepted, then exits."""
    from llmobserve_otel.collector import Collector, CollectorConfig, serve

    token = os.environ.get(ENV_TOKEN) or None
    if not is_loopback(args.host) and not token and not args.insecure:
        print(
            f"llmobserve-otel collector: refusing to listen on {args.host} without a token: "
            f"set {ENV_TOKEN} (clients send it as a bearer token) or pass --insecure",
            file=sys.stderr,
        )
        return 1
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    pricing = not args.no_pricing and env_flag(ENV_PRICING, default=True)
    try:
        config = CollectorConfig(
            clickhouse_url=resolve_url(args.clickhouse_url),
            pricing=pricing,
            token=token,
            batch_size=args.batch_size,
            flush_interval=args.flush_interval,
            max_queue=args.max_queue,
            insert_threads=args.insert_threads,
            max_body_bytes=args.max_body_bytes,
            dedupe_window=args.dedupe_window,
            sql_decode=args.decode == "sql",
        )
        collector = Collector(config)
        collector.open()
    except (StoreError, ValueError) as exc:
        print(f"llmobserve-otel collector: {exc}", file=sys.stderr)
        return 1
    print(
        f"llmobserve-otel collector: OTLP/HTTP on http://{args.host}:{args.port}, "
        f"store {collector.store_display}, pricing {'on' if pricing else 'off'}",
        file=sys.stderr,
    )
    try:
        drained = serve(collector, args.host, args.port, log_level=args.log_level)
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        collector.close()
        return int(exc.code or 1) if isinstance(exc.code, int) else 1
    if not drained:
        print("llmobserve-otel collector: stopped, but some accepted spans were lost", file=sys.stderr)
        return 1
    print("llmobserve-otel collector: stopped, nothing accepted was lost", file=sys.stderr)
    return 0
