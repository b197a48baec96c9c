"""The `llmobserve-otel` command line.

Each subcommand lives in its own module of this package, exposing `add_parser(subparsers)` and
`cmd(args) -> int` (the docstring of `cmd` is the subcommand's help). Data goes to stdout,
messages to stderr; a failing command returns 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand name -> module in this package; imported only when chosen, so `--help` stays fast
# and a missing extra only affects its own command.
_COMMANDS: dict[str, str] = {
    "collector": "collector",
    "dashboards": "dashboards",
    "prices": "prices",
    "proxy": "proxy",
    "report": "report",
    "run": "run",
    "schema": "schema",
}


def _available() -> dict[str, object]:
    modules = {}
    for name, module in _COMMANDS.items():
        try:
            modules[name] = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{__name__}."):
                continue  # command not built yet
            modules[name] = exc  # needs an extra that is not installed
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmobserve-otel",
        description="Cost observability for LLM and paid API calls, on OpenTelemetry.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in sorted(_available().items()):
        if isinstance(module, ModuleNotFoundError):
            p = sub.add_parser(
                name, help=f"(unavailable: missing {module.name}; pip install 'llmobserve-otel[all]')"
            )
            p.set_defaults(_missing=module)
            continue
        module.add_parser(sub)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 1
    missing = getattr(args, "_missing", None)
    if missing is not None:
        print(
            f"llmobserve-otel {args.command}: needs the '{missing.name}' package; "
            "install it with: pip install 'llmobserve-otel[collector,proxy]'",
            file=sys.stderr,
        )
        return 1
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run_main() -> None:
    """Console-script entry point."""
    sys.exit(main())
