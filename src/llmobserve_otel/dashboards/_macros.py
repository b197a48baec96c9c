"""Expanding a panel's SQL the way Grafana and grafana-clickhouse-datasource do, so it can run anywhere.

Two passes, in the order a Grafana query takes them:

1. Template variables (Grafana's frontend, before the query leaves the browser): `${name}`,
   `${name:format}`, `$name` and `[[name]]`. Formats: `sqlstring` (each value in single quotes,
   `'` doubled, values joined by `,`), `singlequote`, `doublequote`, `csv`, `raw`. "All" with a
   custom all value inserts that value unformatted (Grafana skips formatting for it), so a
   variable whose `allValue` is `'__all__'` expands to `'__all__'` under any SQL format.
2. Macros (the plugin's backend, `pkg/macros/macros.go`), with the dashboard's time range and
   interval:

   | macro                         | expands to                                                   |
   |-------------------------------|--------------------------------------------------------------|
   | `$__timeFilter(c)`            | `c >= toDateTime(FROM_S) AND c <= toDateTime(TO_S)`          |
   | `$__timeFilter_ms(c)`         | same with `fromUnixTimestamp64Milli(FROM_MS)` / `(TO_MS)`    |
   | `$__dateFilter(c)`            | `c >= toDate('YYYY-MM-DD') AND c <= toDate('YYYY-MM-DD')`    |
   | `$__dateTimeFilter(d, t)`, `$__dt(d, t)` | `(date filter on d) AND (time filter on t)`       |
   | `$__fromTime`, `$__toTime`    | `toDateTime(FROM_S)`, `toDateTime(TO_S)`                     |
   | `$__fromTime_ms`, `$__toTime_ms` | `fromUnixTimestamp64Milli(FROM_MS)`, `(TO_MS)`            |
   | `$__timeInterval(c)`          | `toStartOfInterval(toDateTime(c), INTERVAL N second)`, N = max(interval s, 1) |
   | `$__timeInterval_ms(c)`       | `toStartOfInterval(toDateTime64(c, 3), INTERVAL N millisecond)` |
   | `$__interval_s`               | N                                                            |

   Seconds are the Unix time truncated (Go's `Time.Unix()`); the range's end is inclusive.

One deliberate difference: Grafana's `sqlstring` leaves backslashes alone, and ClickHouse reads a
backslash in a string literal as an escape, so a value ending in `\\` breaks out of its quotes
there. Here backslashes are doubled as well; for every value without one the output is identical.
The collector's page runs what this produces, so its values must not be able to leave their quotes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from llmobserve_otel.dashboards._model import ALL

__all__ = ("MacroError", "QueryContext", "expand", "expand_macros", "expand_variables")


class MacroError(ValueError):
    """A macro with the wrong number of arguments, or an unknown one."""


@dataclass(frozen=True)
class QueryContext:
    """What Grafana sends with a query: the time range (Unix ms), the interval, variable values.

    A variable missing from `variables`, or given as None, means "All".
    """

    from_ms: int
    to_ms: int
    interval_ms: int = 3_600_000
    variables: Mapping[str, Sequence[str] | str | None] = field(default_factory=dict)


_VARIABLE = re.compile(
    r"\$\{(?P<braced>\w+)(?::(?P<format>\w+))?\}|\[\[(?P<bracket>\w+)(?::(?P<bformat>\w+))?\]\]|\$(?P<bare>(?!__)\w+)"
)
_MACRO = re.compile(r"\$__(\w+)")


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


_FORMATS = {
    "sqlstring": lambda values: ",".join(_literal(v) for v in values),
    "singlequote": lambda values: ",".join(_literal(v) for v in values),
    "doublequote": lambda values: ",".join('"' + v.replace('"', '\\"') + '"' for v in values),
    "csv": ",".join,
    "raw": ",".join,
}


def expand_variables(sql: str, variables: Mapping[str, Sequence[str] | str | None]) -> str:
    """Substitute template variables. A name not in `variables` (nor a `$__` macro) is left as is,
    as Grafana does for an unknown variable, except `${name}` forms of known dashboard variables
    given as None, which take the "All" value."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bracket") or match.group("bare")
        fmt = match.group("format") or match.group("bformat") or ""
        if name not in variables:
            return match.group(0)
        value = variables[name]
        if value is None or (not isinstance(value, str) and list(value) == [ALL]):
            return f"'{ALL}'"  # Grafana inserts a custom all value unformatted
        values = [value] if isinstance(value, str) else list(value)
        formatter = _FORMATS.get(fmt)
        if formatter is None:
            if fmt:
                raise MacroError(f"unsupported variable format {fmt!r} in {match.group(0)}")
            formatter = _FORMATS["raw"]
        return formatter(values)

    return _VARIABLE.sub(replace, sql)


def _arguments(sql: str, start: int) -> tuple[list[str], int]:
    """The comma-separated arguments of the parenthesis opening at `start`, and the index after it."""
    depth = 0
    quote = ""
    args: list[str] = []
    current = start + 1
    for i in range(start, len(sql)):
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[current:i].strip())
                return [a for a in args if a], i + 1  # `()` has no argument
        elif ch == "," and depth == 1:
            args.append(sql[current:i].strip())
            current = i + 1
    raise MacroError(f"unbalanced parentheses after position {start}")


def _date_time(seconds: int) -> str:
    return f"toDateTime({seconds})"


def _date(seconds: int) -> str:
    return f"toDate('{datetime.fromtimestamp(seconds, tz=timezone.utc):%Y-%m-%d}')"


def expand_macros(sql: str, context: QueryContext) -> str:
    """Expand the plugin's `$__` macros."""
    from_s, to_s = context.from_ms // 1000, context.to_ms // 1000
    interval_s = max(context.interval_ms // 1000, 1)
    interval_ms = max(context.interval_ms, 1)

    def one(name: str, args: list[str]) -> str:
        def need(n: int) -> None:
            if len(args) != n:
                raise MacroError(f"$__{name}: expected {n} argument(s), received {len(args)}")

        if name == "timeFilter":
            need(1)
            c = args[0]
            return f"{c} >= {_date_time(from_s)} AND {c} <= {_date_time(to_s)}"
        if name == "timeFilter_ms":
            need(1)
            c = args[0]
            return (
                f"{c} >= fromUnixTimestamp64Milli({context.from_ms}) AND "
                f"{c} <= fromUnixTimestamp64Milli({context.to_ms})"
            )
        if name == "dateFilter":
            need(1)
            c = args[0]
            return f"{c} >= {_date(from_s)} AND {c} <= {_date(to_s)}"
        if name in ("dateTimeFilter", "dt"):
            need(2)
            d, t = args
            return (
                f"({d} >= {_date(from_s)} AND {d} <= {_date(to_s)}) AND "
                f"({t} >= {_date_time(from_s)} AND {t} <= {_date_time(to_s)})"
            )
        if name == "timeInterval":
            need(1)
            return f"toStartOfInterval(toDateTime({args[0]}), INTERVAL {interval_s} second)"
        if name == "timeInterval_ms":
            need(1)
            return f"toStartOfInterval(toDateTime64({args[0]}, 3), INTERVAL {interval_ms} millisecond)"
        simple = {
            "fromTime": _date_time(from_s),
            "toTime": _date_time(to_s),
            "fromTime_ms": f"fromUnixTimestamp64Milli({context.from_ms})",
            "toTime_ms": f"fromUnixTimestamp64Milli({context.to_ms})",
            "interval_s": str(interval_s),
        }
        if name in simple:
            return simple[name]
        raise MacroError(f"unknown macro $__{name}")

    out: list[str] = []
    pos = 0
    while True:
        match = _MACRO.search(sql, pos)
        if match is None:
            out.append(sql[pos:])
            return "".join(out)
        out.append(sql[pos : match.start()])
        name = match.group(1)
        end = match.end()
        args: list[str] = []
        if end < len(sql) and sql[end] == "(":
            args, end = _arguments(sql, end)
        out.append(one(name, args))
        pos = end


def expand(sql: str, context: QueryContext) -> str:
    """Variables first (Grafana's frontend), then macros (the plugin's backend)."""
    return expand_macros(expand_variables(sql, context.variables), context)
