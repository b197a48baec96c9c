"""`llmobserve-otel run -- CMD...`: run a program with cost observability and no code change.

It does what `opentelemetry-instrument CMD` does (puts OpenTelemetry's auto-instrumentation
`sitecustomize` on PYTHONPATH, then replaces itself with CMD), with this distro and configurator
selected explicitly, so the result does not depend on which other OpenTelemetry distros are
installed. The program then gets what `observe()` gives: usage and cost of every provider call,
customers and sections, exported over OTLP (the standard `OTEL_*` variables apply).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import MutableMapping

_USAGE = "llmobserve-otel run [OPTIONS] -- CMD [ARGS...]"
DISTRO = "llmobserve_otel"  # our opentelemetry_distro / opentelemetry_configurator entry-point name


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help=(cmd.__doc__ or "").strip().splitlines()[0],
        description=__doc__,
        usage=_USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: llmobserve-otel run --service-name support-bot -- python app.py",
    )
    parser.add_argument("--service-name", help="service.name of the program (sets OTEL_SERVICE_NAME)")
    parser.add_argument(
        "--endpoint",
        help="OTLP endpoint to export to (sets OTEL_EXPORTER_OTLP_ENDPOINT; default http://localhost:4318)",
    )
    parser.add_argument(
        "--exporter",
        help="span exporters: otlp (default), console, none, ... (sets OTEL_TRACES_EXPORTER)",
    )
    parser.add_argument(
        "--provider-hosts",
        metavar="HOST[:PORT]=PROVIDER,...",
        help="extra provider hosts, added to LLMOBSERVE_PROVIDER_HOSTS (e.g. 127.0.0.1:8001=openai)",
    )
    parser.add_argument(
        "--capture-content",
        action="store_true",
        help="record prompts and completions (sets OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the program to run and its arguments")
    parser.set_defaults(func=cmd)
    return parser


def auto_instrumentation_dir() -> str:
    """The directory of OpenTelemetry's auto-instrumentation `sitecustomize.py`."""
    from opentelemetry.instrumentation import auto_instrumentation

    return os.path.dirname(os.path.abspath(auto_instrumentation.__file__))


def child_environment(args: argparse.Namespace, environ: MutableMapping[str, str]) -> dict[str, str]:
    """The environment CMD runs in: ours selected, the flags applied, sitecustomize on PYTHONPATH."""
    env = dict(environ)
    env["OTEL_PYTHON_DISTRO"] = DISTRO
    env["OTEL_PYTHON_CONFIGURATOR"] = DISTRO
    if args.service_name:
        env["OTEL_SERVICE_NAME"] = args.service_name
    if args.endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = args.endpoint
    if args.exporter:
        env["OTEL_TRACES_EXPORTER"] = args.exporter
    if args.provider_hosts:
        current = env.get("LLMOBSERVE_PROVIDER_HOSTS", "").strip().strip(",")
        env["LLMOBSERVE_PROVIDER_HOSTS"] = (
            f"{current},{args.provider_hosts}" if current else args.provider_hosts
        )
    if args.capture_content:
        env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
    # As opentelemetry-instrument does: sitecustomize's directory first, then the working
    # directory (for programs run from their own executable, such as Django's manage.py).
    sitecustomize_dir = auto_instrumentation_dir()
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != sitecustomize_dir]
    cwd = os.getcwd()
    if cwd not in paths:
        paths.insert(0, cwd)
    env["PYTHONPATH"] = os.pathsep.join([sitecustomize_dir, *paths])
    return env


def cmd(args: argparse.Namespace) -> int:
    """run CMD with cost observability (what `opentelemetry-instrument CMD` does, with this distro)"""
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print(f"llmobserve-otel run: no command given\nusage: {_USAGE}", file=sys.stderr)
        return 1
    env = child_environment(args, os.environ)
    executable = shutil.which(command[0], path=env.get("PATH"))
    if executable is None:
        print(f"llmobserve-otel run: command not found: {command[0]}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(executable, command, env)  # does not return
    except OSError as exc:
        print(f"llmobserve-otel run: cannot run {command[0]}: {exc}", file=sys.stderr)
        return 1
    return 0  # pragma: no cover - execve only returns by raising
