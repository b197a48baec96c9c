"""`llmobserve-otel schema`: print the store's DDL."""

from __future__ import annotations

import argparse

from llmobserve_otel.store import SchemaOptions, schema_statements


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema", help="print the ClickHouse DDL of the store", description=cmd.__doc__
    )
    parser.add_argument(
        "--cluster",
        metavar="NAME",
        help="generate for a ClickHouse cluster: ReplicatedMergeTree tables ON CLUSTER plus Distributed tables",
    )
    parser.add_argument(
        "--database", default="default", help="database holding the tables (default: default)"
    )
    parser.add_argument(
        "--ttl-days", type=int, default=0, metavar="N", help="drop data older than N days (default: keep)"
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Print the DDL of the store: otel_traces (the OpenTelemetry Collector contrib ClickHouse
    exporter's table, so rotel and otelcol-contrib write the same rows), its trace-id lookup, and
    the cost table, hourly rollup and materialized views the report and dashboards read. Every
    statement is idempotent (IF NOT EXISTS): pipe it to clickhouse-client to prepare a server."""
    options = SchemaOptions(database=args.database, cluster=args.cluster or None, ttl_days=args.ttl_days)
    print(";\n\n".join(schema_statements(options)) + ";")
    return 0
