"""`llmobserve-otel report`: what the calls cost, by customer, provider, model, section, service or trace."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from llmobserve_otel.store import (
    DEFAULT_URL,
    ENV_URL,
    GROUPINGS,
    ReportQuery,
    StoreError,
    StoreLockedError,
    resolve_url,
)
from llmobserve_otel.store._queries import ROW_COUNTS
from llmobserve_otel.store._tree import NO_SECTION, section_tree

ENV_COLLECTOR_URL = "LLMOBSERVE_COLLECTOR_URL"
ENV_COLLECTOR_TOKEN = "LLMOBSERVE_COLLECTOR_TOKEN"
DEFAULT_COLLECTOR_URL = "http://127.0.0.1:4318"

# Row fields in output order (csv header, table columns); `provider` joins for --by model.
_FIELDS = ("key", "cost_usd", *ROW_COUNTS, "units")


class ReportError(Exception):
    """The report cannot be produced; the message is the one line the user sees."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="print what the calls cost", description=cmd.__doc__)
    parser.add_argument(
        "--by", choices=list(GROUPINGS), default="customer", help="group by (default: customer)"
    )
    parser.add_argument(
        "--since", help="start: ISO date/time (UTC unless it says) or a duration back: 30m, 24h, 7d"
    )
    parser.add_argument("--until", help="end (exclusive), same forms as --since (default: now)")
    parser.add_argument("--customer", metavar="ID", help="only this customer's calls")
    parser.add_argument(
        "--format", choices=["table", "json", "csv"], default="table", help="output (default: table)"
    )
    parser.add_argument(
        "--tree", action="store_true", help="section tree (agent -> step -> tool) with costs rolled up"
    )
    parser.add_argument("--trace", metavar="TRACE_ID", help="with --tree: the tree of one trace")
    parser.add_argument("--limit", type=int, metavar="N", help="only the N most expensive rows")
    parser.add_argument(
        "--collector-url",
        metavar="URL",
        help=f"collector to ask (default: ${ENV_COLLECTOR_URL} or {DEFAULT_COLLECTOR_URL})",
    )
    parser.add_argument(
        "--clickhouse-url",
        metavar="URL",
        help=f"read this store directly instead of asking the collector (default: ${ENV_URL} or {DEFAULT_URL})",
    )
    parser.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    """Print what the calls cost, most expensive first, grouped by customer, provider, model,
    section, service or trace, or as a section tree (agent -> step -> tool, costs rolled up).
    Asks the running collector (--collector-url) and, when none answers, reads the store
    directly. --format json prints a JSON array of objects with key, cost_usd, calls,
    input_tokens and output_tokens (and more), sorted by cost_usd descending."""
    try:
        now = datetime.now(timezone.utc)
        query = ReportQuery(
            by="section" if args.tree else args.by,
            since_ns=_parse_time(args.since, now) if args.since else None,
            until_ns=_parse_time(args.until, now) if args.until else None,
            customer=args.customer,
            trace_id=args.trace.lower() if args.trace else None,
            limit=None if args.tree else args.limit,
        )
        if args.trace and not args.tree:
            raise ReportError("--trace needs --tree (for the cost of traces, use --by trace)")
        rows = _fetch(query, args)
    except (ReportError, StoreError, ValueError) as exc:
        print(f"llmobserve-otel report: {exc}", file=sys.stderr)
        return 1
    if args.tree:
        tree = section_tree(rows)
        {"json": _tree_json, "csv": _tree_csv, "table": _tree_table}[args.format](tree)
    else:
        {"json": _rows_json, "csv": _rows_csv, "table": _rows_table}[args.format](rows, query.by)
    return 0


# --- time ---

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _parse_time(text: str, now: datetime) -> int:
    """Unix nanoseconds for `now`, a duration back from now (`24h`), or an ISO date/time (UTC default)."""
    value = text.strip()
    if value == "now":
        moment = now
    elif match := _DURATION.match(value):
        moment = now - timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ReportError(
                f"cannot read the time {text!r}: use 2025-01-31, 2025-01-31T12:00, 24h or 7d"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


# --- fetching ---


def _fetch(query: ReportQuery, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Rows from the collector when it answers, else from the store itself."""
    direct = args.clickhouse_url and not args.collector_url
    collector_url = args.collector_url or os.environ.get(ENV_COLLECTOR_URL) or DEFAULT_COLLECTOR_URL
    if not direct:
        rows = _ask_collector(collector_url, query)
        if rows is not None:
            return rows
    try:
        return _read_store(resolve_url(args.clickhouse_url), query)
    except StoreLockedError as exc:
        if direct:
            raise
        raise ReportError(f"{exc}; no collector answered at {collector_url}") from None


def _ask_collector(base_url: str, query: ReportQuery) -> list[dict[str, Any]] | None:
    """The collector's answer, or None when no collector listens there."""
    url = base_url.rstrip("/") + "/api/v1/report?" + urllib.parse.urlencode(query.as_params())
    headers = {"Accept": "application/json"}
    token = os.environ.get(ENV_COLLECTOR_TOKEN)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return list(json.load(response)["rows"])
    except urllib.error.HTTPError as exc:
        # Our collector explains its errors in JSON; anything else (an otelcol-contrib on the
        # same port answering 404/405) is not a collector we can ask.
        try:
            message = json.load(exc)["error"]
        except Exception:
            return None
        raise ReportError(f"the collector at {base_url} answered {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError):
        return None
    except (ValueError, KeyError, TypeError):
        return None  # not our collector


def _read_store(url: str, query: ReportQuery) -> list[dict[str, Any]]:
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from llmobserve_otel.store import StoreUnavailableError, open_store, report_rows

    client = open_store(url, create=False, schema=False)
    try:
        return report_rows(client, query)
    except ClickHouseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreUnavailableError(f"the report query failed: {first_line}") from exc
    finally:
        client.close()


# --- rendering: rows ---


def _columns(by: str) -> list[str]:
    fields = list(_FIELDS)
    if by == "model":
        fields.insert(1, "provider")
    return fields


def _rows_json(rows: Sequence[dict[str, Any]], by: str) -> None:
    json.dump(list(rows), sys.stdout, indent=2)
    sys.stdout.write("\n")


def _units_text(units: dict[str, float] | None) -> str:
    return ";".join(f"{k}={_number(v)}" for k, v in sorted((units or {}).items()))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _rows_csv(rows: Sequence[dict[str, Any]], by: str) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    columns = _columns(by)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [_units_text(row.get("units")) if c == "units" else _plain(row.get(c, "")) for c in columns]
        )


def _plain(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def _money(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.6f}" if abs(value) < 1 else f"${value:,.2f}"


def _label(key: Any, by: str) -> str:
    if key not in ("", None):
        return str(key)
    return {"customer": "(no customer)", "section": NO_SECTION}.get(by, "(unknown)")


def _rows_table(rows: Sequence[dict[str, Any]], by: str) -> None:
    headers = [
        by,
        *(["provider"] if by == "model" else []),
        "cost",
        "calls",
        "input tok",
        "output tok",
        "unpriced",
    ]
    has_units = any(row.get("units") for row in rows)
    if has_units:
        headers.append("units")
    body = []
    for row in rows:
        cells = [_label(row["key"], by)]
        if by == "model":
            cells.append(str(row.get("provider") or ""))
        cells += [
            _money(row["cost_usd"]),
            f"{row['calls']:,}",
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            f"{row.get('unpriced_calls', 0):,}",
        ]
        if has_units:
            cells.append(_units_text(row.get("units")).replace(";", " "))
        body.append(cells)
    total = sum(float(r["cost_usd"]) for r in rows)
    calls = sum(int(r["calls"]) for r in rows)
    title = (
        f"Cost by {by}: {_money(total)} over {calls:,} calls" if rows else f"Cost by {by}: no calls recorded"
    )
    _print_table(title, headers, body, numeric_from=2 if by == "model" else 1)


# --- rendering: section tree ---


def _tree_json(tree: list[dict[str, Any]]) -> None:
    json.dump(tree, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _walk(nodes: list[dict[str, Any]], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for node in nodes:
        out.append((depth, node))
        out.extend(_walk(node["children"], depth + 1))
    return out


def _tree_csv(tree: list[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    columns = [
        "path",
        "name",
        "kind",
        "depth",
        "cost_usd",
        "self_cost_usd",
        "calls",
        "input_tokens",
        "output_tokens",
    ]
    writer.writerow(columns)
    for depth, node in _walk(tree):
        writer.writerow([depth if c == "depth" else _plain(node[c]) for c in columns])


def _tree_table(tree: list[dict[str, Any]]) -> None:
    body = []
    for depth, node in _walk(tree):
        body.append(
            [
                "  " * depth + node["name"],
                _money(node["cost_usd"]),
                _money(node["self_cost_usd"]) if node["children"] else "",  # own calls, beside children
                f"{node['calls']:,}",
                f"{node['input_tokens']:,}",
                f"{node['output_tokens']:,}",
            ]
        )
    total = sum(n["cost_usd"] for n in tree)
    title = f"Cost by section: {_money(total)}" if tree else "Cost by section: no calls recorded"
    _print_table(title, ["section", "cost", "own", "calls", "input tok", "output tok"], body, 1)


def _print_table(title: str, headers: list[str], body: list[list[str]], numeric_from: int) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _plain_table(title, headers, body, numeric_from)
        return
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(
            header, justify="right" if i >= numeric_from and header != "units" else "left", no_wrap=True
        )
    for cells in body:
        table.add_row(*cells)
    # Piped or captured output has no terminal width: size to the content instead of folding
    # section paths and ids into 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=_content_width(headers, body))
    console.print(table)


def _content_width(headers: list[str], body: list[list[str]]) -> int:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *body, strict=True)]
    return max(80, sum(widths) + 3 * len(widths) + 1)


def _plain_table(title: str, headers: list[str], body: list[list[str]], numeric_from: int) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *body, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i >= numeric_from and headers[i] != "units" else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(title)
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for cells in body:
        print(line(cells))
