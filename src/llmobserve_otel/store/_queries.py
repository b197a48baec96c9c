"""The report's SQL over the cost views, shared by the CLI report and the collector's query API.

Aggregates read whole hours from a rollup (`llmobserve_costs_hourly`, or `llmobserve_costs_traces`
for `by=trace`, ranked on `llmobserve_costs_trace_keys`) and only the partial hours at the edges of
a `since/until` window from
`llmobserve_costs FINAL` (exact, deduplicated), so a report over a month costs a scan of the
rollup, not of every call. One trace's section tree reads `llmobserve_costs FINAL` directly,
where the trace id index applies.

Every function returns plain JSON-able rows; rendering lives in the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmobserve_otel import semconv as sc
from llmobserve_otel.store._schema import (
    COSTS_HOURLY_TABLE,
    COSTS_TABLE,
    COSTS_TRACE_KEYS_TABLE,
    COSTS_TRACES_TABLE,
    ident,
    literal,
)

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

__all__ = ("GROUPINGS", "ReportQuery", "recent_span_keys", "report_rows", "section_rows")

_HOUR_NS = 3_600_000_000_000

# --by value -> the cost-table column(s) it groups on; the first is the row's `key`.
GROUPINGS: Mapping[str, tuple[str, ...]] = {
    "customer": ("customer",),
    "provider": ("provider",),
    "model": ("model", "provider"),
    "section": ("section_path",),
    "service": ("service",),
    "trace": ("trace_id",),
}

_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")
_SUMS = ("calls", "cost_usd", *_TOKENS)
ROW_COUNTS = ("calls", *_TOKENS, "unpriced_calls")
"""The integer totals of every report row and section-tree node, in output order."""


@dataclass(frozen=True)
class ReportQuery:
    """What to aggregate. Times are Unix nanoseconds, `since` inclusive, `until` exclusive."""

    by: str = "customer"
    since_ns: int | None = None
    until_ns: int | None = None
    customer: str | None = None
    trace_id: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.by not in GROUPINGS:
            raise ValueError(f"cannot group by {self.by!r}; choose one of {', '.join(GROUPINGS)}")
        if self.since_ns is not None and self.until_ns is not None and self.until_ns <= self.since_ns:
            raise ValueError("--until must be later than --since")

    def as_params(self) -> dict[str, str]:
        """The query as HTTP query parameters (the collector API's wire form)."""
        params = {"by": self.by}
        for name in ("since_ns", "until_ns", "customer", "trace_id", "limit"):
            value = getattr(self, name)
            if value is not None:
                params[name] = str(value)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ReportQuery:
        """Inverse of `as_params`; raises ValueError on a bad value."""

        def integer(name: str) -> int | None:
            value = params.get(name)
            return int(value) if value not in (None, "") else None

        return cls(
            by=params.get("by", "customer"),
            since_ns=integer("since_ns"),
            until_ns=integer("until_ns"),
            customer=params.get("customer") or None,
            trace_id=params.get("trace_id") or None,
            limit=integer("limit"),
        )


def _ceil_hour(ns: int) -> int:
    return -(-ns // _HOUR_NS) * _HOUR_NS


def _floor_hour(ns: int) -> int:
    return ns // _HOUR_NS * _HOUR_NS


def _sources(query: ReportQuery, columns: Sequence[str], params: dict[str, Any]) -> str:
    """A UNION ALL of the rollup (whole hours) and the cost table (edges) with `columns` + sums."""
    dims = ", ".join(columns)
    # Inner columns are renamed (n_*) so the outer aliases cannot capture them.
    rollup = COSTS_TRACES_TABLE if query.by == "trace" else COSTS_HOURLY_TABLE
    return _windowed(
        query,
        params,
        rollup=f"SELECT {dims}, {_inner(_SUMS)} FROM {ident(rollup)}",
        raw=f"SELECT {dims}, toUInt64(1) AS n_calls, {_inner(_SUMS[1:])} FROM {ident(COSTS_TABLE)} FINAL",
    )


def _top_traces(query: ReportQuery, params: dict[str, Any]) -> str:
    """The 64-bit hashes of the `limit` most expensive traces' ids.

    Grouping a month of traces on a fixed-size key (the trace-keys rollup) is about 3x faster than
    on the 32-character id. Ties at the cut fall to the smaller hash (the dashboard panel does the
    same); two traces sharing a hash (odds ~1e-7 a week at 10M spans) would rank as one.
    """
    ranked = _windowed(
        query,
        params,
        rollup=f"SELECT trace, calls AS n_calls, cost_usd AS n_cost_usd FROM {ident(COSTS_TRACE_KEYS_TABLE)}",
        raw=f"SELECT cityHash64(trace_id) AS trace, toUInt64(1) AS n_calls, cost_usd AS n_cost_usd "
        f"FROM {ident(COSTS_TABLE)} FINAL",
    )
    return (
        f"SELECT trace FROM (\n{ranked}\n) GROUP BY trace"
        " ORDER BY sum(n_cost_usd) DESC, sum(n_calls) DESC, trace LIMIT {limit:UInt64}"
    )


def _windowed(query: ReportQuery, params: dict[str, Any], *, rollup: str, raw: str) -> str:
    """`rollup` for the whole hours of the query's window, `raw` for its partial hours, filtered."""
    filters = []
    if query.customer is not None:
        params["customer"] = query.customer
        filters.append("customer = {customer:String}")
    if query.trace_id is not None:
        params["trace_id"] = query.trace_id
        filters.append("trace_id = {trace_id:String}")

    # One trace's calls: the trace id index on the cost table finds them directly.
    if query.trace_id is not None:
        return raw + _where([*filters, *_raw_window(query.since_ns, query.until_ns, params, "")])

    lo = _ceil_hour(query.since_ns) if query.since_ns is not None else None
    hi = _floor_hour(query.until_ns) if query.until_ns is not None else None
    if lo is not None and hi is not None and lo >= hi:
        # The window sits inside one hour: no whole hour to take from the rollup.
        return raw + _where([*filters, *_raw_window(query.since_ns, query.until_ns, params, "")])

    hour_filters = list(filters)
    if lo is not None:
        params["hour_lo"] = lo // 1_000_000_000
        hour_filters.append("hour >= toDateTime({hour_lo:UInt32}, 'UTC')")
    if hi is not None:
        params["hour_hi"] = hi // 1_000_000_000
        hour_filters.append("hour < toDateTime({hour_hi:UInt32}, 'UTC')")
    parts = [rollup + _where(hour_filters)]
    if lo is not None and query.since_ns is not None and query.since_ns < lo:
        parts.append(raw + _where([*filters, *_raw_window(query.since_ns, lo, params, "_head")]))
    if hi is not None and query.until_ns is not None and hi < query.until_ns:
        parts.append(raw + _where([*filters, *_raw_window(hi, query.until_ns, params, "_tail")]))
    return "\nUNION ALL\n".join(parts)


def _inner(names: Sequence[str]) -> str:
    return ", ".join(f"{name} AS n_{name}" for name in (*names, "units", "cost_status"))


def _raw_window(since_ns: int | None, until_ns: int | None, params: dict[str, Any], suffix: str) -> list[str]:
    conditions = []
    if since_ns is not None:
        params["since" + suffix] = since_ns
        conditions.append(f"timestamp >= fromUnixTimestamp64Nano({{since{suffix}:Int64}}, 'UTC')")
    if until_ns is not None:
        params["until" + suffix] = until_ns
        conditions.append(f"timestamp < fromUnixTimestamp64Nano({{until{suffix}:Int64}}, 'UTC')")
    return conditions


def _where(conditions: Sequence[str]) -> str:
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def _aggregate_sql(query: ReportQuery, columns: Sequence[str], params: dict[str, Any]) -> str:
    dims = ", ".join(columns)
    priced = literal(sc.STATUS_PRICED)
    sums = ",\n    ".join(f"sum(n_{name}) AS {name}" for name in _SUMS)
    sources = _sources(query, columns, params)
    where = ""
    if query.limit:
        params["limit"] = query.limit
        if query.by == "trace":
            # Top traces in two passes: rank every trace on its cost alone (cheap), then total
            # the few winners in full; totalling every token count and unit map of a month of
            # traces only to keep twenty would dominate the query.
            where = f"\nWHERE cityHash64(trace_id) IN (\n{_top_traces(query, params)}\n)"
    sql = f"""SELECT {dims},
    {sums},
    sumIf(n_calls, n_cost_status != {priced}) AS unpriced_calls,
    sumMap(n_units) AS units
FROM (
{sources}
){where}
GROUP BY {dims}
ORDER BY cost_usd DESC, calls DESC, {dims}"""
    if query.limit:
        sql += "\nLIMIT {limit:UInt64}"
    return sql


def _rows(
    client: Client, sql: str, params: Mapping[str, Any], columns: Sequence[str]
) -> list[dict[str, Any]]:
    result = client.query(sql, parameters=dict(params))
    names = result.column_names
    out = []
    for values in result.result_rows:
        raw = dict(zip(names, values, strict=True))
        row: dict[str, Any] = {"key": raw[columns[0]]}
        for extra in columns[1:]:
            row[extra] = raw[extra]
        cost = raw["cost_usd"]
        row["cost_usd"] = float(cost) if isinstance(cost, Decimal) else float(cost or 0)
        for name in ROW_COUNTS:
            row[name] = int(raw[name])
        row["units"] = {k: float(v) for k, v in sorted((raw.get("units") or {}).items())}
        out.append(row)
    return out


def report_rows(client: Client, query: ReportQuery) -> list[dict[str, Any]]:
    """Cost per `query.by` value, most expensive first.

    Each row: key, cost_usd, calls, input_tokens, output_tokens, cache_read_tokens,
    cache_creation_tokens, reasoning_tokens, unpriced_calls (calls without a cost), units (non-token
    usage by unit), plus `provider` when grouping by model.
    """
    columns = GROUPINGS[query.by]
    params: dict[str, Any] = {}
    return _rows(client, _aggregate_sql(query, columns, params), params, columns)


def section_rows(client: Client, query: ReportQuery) -> list[dict[str, Any]]:
    """Cost per section path (the calls made directly in each section), for the section tree."""
    return report_rows(client, ReportQuery(**{**query.__dict__, "by": "section", "limit": None}))


def recent_span_keys(client: Client, *, limit: int, within_seconds: int = 3600) -> list[bytes]:
    """trace_id + span_id (bytes) of the latest provider calls, to prime the duplicate window.

    Only calls are read: they are what a double-stored span would double-bill, and the cost
    table is small and time-ordered where otel_traces is not.
    """
    result = client.query(
        f"SELECT trace_id, span_id FROM {ident(COSTS_TABLE)} "
        "WHERE timestamp >= now64(9, 'UTC') - toIntervalSecond({within:UInt32}) "
        "ORDER BY timestamp DESC LIMIT {limit:UInt64}",
        parameters={"within": within_seconds, "limit": limit},
    )
    keys = []
    for trace_id, span_id in result.result_rows:
        try:
            keys.append(bytes.fromhex(trace_id) + bytes.fromhex(span_id))
        except ValueError:
            continue
    return keys
