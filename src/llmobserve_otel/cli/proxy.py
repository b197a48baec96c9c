"""`llmobserve-otel proxy`: the forwarding proxy that records provider calls (see `llmobserve_otel.proxy`)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from typing import Any

from llmobserve_otel._internal.serving import is_loopback

ENV_TOKEN = "LLMOBSERVE_PROXY_TOKEN"  # the app side reads it too (capture/_proxy_route.py)
ENV_ALLOW_HOSTS = "LLMOBSERVE_PROXY_ALLOW_HOSTS"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "proxy",
        help="run the forwarding proxy that records provider calls (no SDK needed in the app)",
        description=cmd.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=9000, help="port to bind (default: 9000; 0 picks a free one)"
    )
    parser.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="PROVIDER=URL",
        help="send /PROVIDER/... to URL instead of the provider's API host (repeatable); "
        "the operator names it, so it may be a loopback or private address",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help=f"let /_/SCHEME/HOST/... reach HOST (api.example.com, *.example.com, host:port) besides "
        f"provider hosts (repeatable; also ${ENV_ALLOW_HOSTS}, comma-separated)",
    )
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let allowed targets resolve to loopback, private and link-local addresses",
    )
    parser.add_argument(
        "--price",
        action="store_true",
        help="price spans here (llmobserve.cost.source=proxy) instead of leaving it to the collector",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help=f"allow binding a non-loopback interface without ${ENV_TOKEN}",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=32 * 1024 * 1024,
        help="largest request body; larger ones get 413 (default: 32 MiB)",
    )
    parser.add_argument(
        "--upstream-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the response head and between body chunks; then 504 (default: 600)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        help="seconds to open an upstream connection (default: 10)",
    )
    parser.add_argument(
        "--max-idle-connections",
        type=int,
        default=512,
        help="idle keep-alive connections kept per upstream host (default: 512)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=30.0,
        help="on SIGTERM, how long requests in flight may take to finish (default: 30)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the port (SO_REUSEPORT; Linux/BSD), e.g. one per core (default: 1)",
    )
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(func=cmd)


def _upstreams(values: list[str]) -> dict[str, str]:
    upstreams: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ValueError(f"--upstream {value!r}: expected PROVIDER=URL")
        upstreams[name.strip().lower()] = url.strip()
    return upstreams


def cmd(args: argparse.Namespace) -> int:
    """Run the proxy: http://127.0.0.1:9000 by default.

      /openai/v1/chat/completions          -> https://api.openai.com/v1/chat/completions
      /{provider}/{path}                   -> that provider's API host (any registered provider)
      /_/https/{host[:port]}/{path}        -> any provider host, or one on the allowlist

    App side, either OPENAI_BASE_URL=http://127.0.0.1:9000/openai/v1 (no SDK needed), or
    LLMOBSERVE_PROXY_URL=http://127.0.0.1:9000 with llmobserve-otel in the app (automatic).
    The proxy continues the app's trace (traceparent), copies customer and section path from
    baggage onto one span per call with the usage from the response, and exports it over OTLP
    (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318) for the collector to price.
    traceparent, baggage and x-llmobserve-* headers never reach the provider; auth headers are
    forwarded, never recorded. SIGTERM finishes requests in flight and flushes spans."""
    from llmobserve_otel.proxy import Proxy, ProxyConfig, serve

    token = os.environ.get(ENV_TOKEN) or None
    if not is_loopback(args.host) and not token and not args.insecure:
        print(
            f"llmobserve-otel proxy: refusing to listen on {args.host} without a token: set {ENV_TOKEN} "
            "(clients send it as Proxy-Authorization: Bearer TOKEN) or pass --insecure",
            file=sys.stderr,
        )
        return 1
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    allow = [*args.allow_host, *os.environ.get(ENV_ALLOW_HOSTS, "").split(",")]
    try:
        config = ProxyConfig(
            upstreams=_upstreams(args.upstream),
            allow_hosts=tuple(h.strip() for h in allow if h.strip()),
            allow_private=args.allow_private,
            token=token,
            max_body_bytes=args.max_body_bytes,
            upstream_timeout=args.upstream_timeout,
            connect_timeout=args.connect_timeout,
            max_idle_connections=args.max_idle_connections,
            price=args.price,
            provider_hosts=os.environ.get("LLMOBSERVE_PROVIDER_HOSTS"),
        )
        proxy = Proxy(config)
    except ValueError as exc:
        print(f"llmobserve-otel proxy: {exc}", file=sys.stderr)
        return 1
    if args.workers > 1 and args.port == 0:
        print("llmobserve-otel proxy: --workers needs a fixed --port", file=sys.stderr)
        return 1
    workers = _start_workers(config, args) if args.workers > 1 else []
    code = 0
    try:
        serve(
            proxy,
            args.host,
            args.port,
            log_level=args.log_level,
            drain_seconds=args.drain_seconds,
            reuse_port=args.workers > 1,
        )
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        code = int(exc.code or 1) if isinstance(exc.code, int) else 1
    finally:
        for worker in workers:  # SIGTERM each: they drain and flush as this process did
            worker.terminate()
        for worker in workers:
            code = code or (1 if worker.wait() not in (0, -signal.SIGTERM) else 0)
    if code == 0:
        print("llmobserve-otel proxy: stopped", file=sys.stderr)
    return code


def _start_workers(config: Any, args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    from llmobserve_otel.proxy._worker import ENV_CONFIG, encode_config

    env = {**os.environ, ENV_CONFIG: encode_config(config)}
    command = [sys.executable, "-m", "llmobserve_otel.proxy._worker"]
    command += [args.host, str(args.port), args.log_level, str(args.drain_seconds)]
    return [subprocess.Popen(command, env=env) for _ in range(args.workers - 1)]
