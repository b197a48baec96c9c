"""`llmobserve-otel dashboards`: write the Grafana dashboards and provisioning files."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboards",
        help="write the Grafana dashboards (JSON) and provisioning YAML",
        description=cmd.__doc__,
    )
    parser.add_argument(
        "--out", default="dashboards", metavar="DIR", help="directory to write into (default: ./dashboards)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a file in DIR differs from what the definitions render",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Render the four cost dashboards (cost overview, customers, agents and sections, trace
    explorer) from their Python definitions into DIR/*.json, with Grafana provisioning for the
    grafana-clickhouse-datasource (OTel traces on otel_traces) and a file provider for the dashboards
    in DIR/provisioning/. The collector's page at / shows the same panels."""
    try:
        from llmobserve_otel.dashboards._grafana import render_all
    except ImportError as exc:
        print(
            f"llmobserve-otel dashboards: needs {exc.name}; pip install 'llmobserve-otel[dashboards]'",
            file=sys.stderr,
        )
        return 1
    files = render_all()
    if args.check:
        stale = []
        for name, text in files.items():
            path = os.path.join(args.out, name)
            try:
                with open(path, encoding="utf-8") as existing:
                    if existing.read() == text:
                        continue
            except FileNotFoundError:
                pass
            stale.append(path)
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        if stale:
            print("run `llmobserve-otel dashboards` to regenerate", file=sys.stderr)
            return 1
        return 0
    for name, text in files.items():
        path = os.path.join(args.out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        print(path)
    return 0
