"""The store's DDL: `otel_traces` as the contrib ClickHouse exporter creates it, plus the cost views.

Tables (names are a contract: dashboards and the report read them):

```
otel_traces                    spans, same DDL and insert columns as the OpenTelemetry Collector
                               contrib ClickHouse exporter (bloom-filter index branch), so rotel,
                               otelcol-contrib and this collector write interchangeable rows
otel_traces_trace_id_ts        trace id -> first/last second (contrib lookup table) ...
otel_traces_trace_id_ts_mv     ... and the view that fills it
llmobserve_costs               one typed row per provider call (ReplacingMergeTree on the span id) ...
llmobserve_costs_mv            ... filled from otel_traces
llmobserve_costs_hourly        hour x service x customer x provider x model x operation x section
                               x status rollup (AggregatingMergeTree) ...
llmobserve_costs_hourly_mv     ... filled from llmobserve_costs (views cascade on insert)
llmobserve_costs_traces        hour x customer x trace x status rollup, for "most expensive traces" ...
llmobserve_costs_traces_mv     ... filled from llmobserve_costs
llmobserve_costs_runs          hour x customer x service x agent x run (trace id hash) rollup, for
                               the cost per agent run (average, p95) without scanning every call ...
llmobserve_costs_runs_mv       ... filled from llmobserve_costs
llmobserve_costs_run_hours_dirty     which (hour, customer, service, agent) groups of the runs
llmobserve_costs_run_hours_dirty_mv  rollup each insert touched, and when (kept a day)
llmobserve_costs_run_hours     hour x customer x service x agent: runs, their cost and a t-digest of
                               run costs (ReplacingMergeTree on a version) ...
llmobserve_costs_run_hours_refresh  ... recomputed from llmobserve_costs_runs every 10 s for the
                               groups touched since, so avg / p95 per run read a few states
llmobserve_costs_agent_hours   the same per hour x agent only (every customer and service) ...
llmobserve_costs_agent_hours_refresh  ... and its refreshable view
llmobserve_costs_trace_keys    hour x customer x trace id hash (UInt64) rollup, with the id: "most
                               expensive traces" ranks on the fixed-size key ...
llmobserve_costs_trace_keys_mv ... filled from llmobserve_costs
```

Run hours. A run's calls can arrive in several inserts (an exporter's batches), so a quantile state
built from one inserted block would see partial runs. A refreshable view instead recomputes, every
10 seconds, each (hour, customer, service, agent) group touched since its last refresh, from all
the group's runs, and writes it with a newer version; `FINAL` keeps the newest. Recomputing on
every insert (the first design) re-read the current hour's runs once per insert, which grows with
the hour's traffic: at 20k spans/s that cost more than everything else an insert does. The panel
lags the spans by up to the interval; `refresh_views()` runs the refresh now. A run is counted per
hour: one that crosses an hour boundary counts once in each hour, with the part of its cost made in
that hour.

Upgrades. Every table and view here is `IF NOT EXISTS`, so an older store gains the newer rollups
empty: they fill from new spans on, and `rebuild_rollups()` fills them from the cost table.

Duplicates. An OTLP retry re-sends spans that may already be stored. `llmobserve_costs` is a
ReplacingMergeTree whose sorting key ends with (trace_id, span_id), so any number of copies of a
call collapse to one row on merge and `FINAL` reads are exact whatever wrote them. A rollup fed by
a materialized view cannot be fixed up after the fact (the view sees inserted blocks, not merged
state), so the rollups stay right by never receiving a copy: the local collector drops spans it
has already accepted (a recent window, primed from the store at start-up, plus the copies inside
one request) before they reach ClickHouse. The report reads whole hours from the rollups and the
partial hours at the edges of `--since/--until`, and one trace's tree, from
`llmobserve_costs FINAL`. Other writers (rotel, otelcol-contrib) retry an insert with the same
block, which ClickHouse's block deduplication drops on Replicated tables; rows are sharded by
trace id so copies of a span meet on one shard. What could still reach a rollup twice is a span
re-exported to a different collector instance after its window forgot it; `FINAL` reads of
`llmobserve_costs` stay exact in every case, and `rebuild_rollups()` refills the rollups from them.

Cluster mode (`cluster=NAME`): every table becomes `<name>_local` with the Replicated engine
variant `ON CLUSTER`, the views attach to the local tables (so they run on the shard that
receives the rows), and `<name>` becomes a Distributed table over the locals: writers and readers
keep using the plain names. The refreshable views run on every shard over its local runs (a trace's
spans all land on one shard, so its runs are whole there).

Servers: ClickHouse 24.10 or newer (refreshable views without the experimental setting; the
deploy/ stack runs 25.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from llmobserve_otel import semconv as sc

__all__ = (
    "COSTS_AGENT_HOURS_TABLE",
    "COSTS_HOURLY_TABLE",
    "COSTS_RUNS_TABLE",
    "COSTS_RUN_HOURS_TABLE",
    "COSTS_TABLE",
    "COSTS_TRACES_TABLE",
    "COSTS_TRACE_KEYS_TABLE",
    "ROLLUPS",
    "RUN_COST_QUANTILE",
    "RUN_HOURS",
    "RUN_HOURS_REFRESH_SECONDS",
    "TRACES_INSERT_COLUMNS",
    "TRACES_INSERT_TYPES",
    "TRACES_TABLE",
    "TRACE_ID_TS_TABLE",
    "SchemaOptions",
    "rebuild_rollup_statements",
    "run_hours_refresh_views",
    "schema_statements",
)

TRACES_TABLE = "otel_traces"
TRACE_ID_TS_TABLE = "otel_traces_trace_id_ts"
COSTS_TABLE = "llmobserve_costs"
COSTS_HOURLY_TABLE = "llmobserve_costs_hourly"
COSTS_TRACES_TABLE = "llmobserve_costs_traces"
COSTS_RUNS_TABLE = "llmobserve_costs_runs"
COSTS_RUN_HOURS_TABLE = "llmobserve_costs_run_hours"
COSTS_RUN_HOURS_DIRTY_TABLE = "llmobserve_costs_run_hours_dirty"
COSTS_AGENT_HOURS_TABLE = "llmobserve_costs_agent_hours"
COSTS_TRACE_KEYS_TABLE = "llmobserve_costs_trace_keys"

# Run-hours states: recomputed this often for the groups that changed, and an insert that began
# this long before a refresh still counts as after it (it may have been committing meanwhile).
RUN_HOURS_REFRESH_SECONDS = 10
_REFRESH_MARGIN_SECONDS = 30

# The contrib exporter's insert column list (internal/sqltemplates/traces_insert.sql), in order.
TRACES_INSERT_COLUMNS: tuple[str, ...] = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)

_ATTRS = "Map(String, String)"
# The types rows are sent with (flattened Nested columns are arrays), so an insert needs no
# DESCRIBE. Plain String where the table says LowCardinality(String): ClickHouse converts on
# insert, and building LowCardinality dictionaries in Python would cost about 40% of the insert.
TRACES_INSERT_TYPES: tuple[str, ...] = (
    "DateTime64(9)",
    "String",
    "String",
    "String",
    "String",
    "String",
    "String",
    "String",
    _ATTRS,
    "String",
    "String",
    _ATTRS,
    "UInt64",
    "String",
    "String",
    "Array(DateTime64(9))",
    "Array(String)",
    f"Array({_ATTRS})",
    "Array(String)",
    "Array(String)",
    "Array(String)",
    f"Array({_ATTRS})",
)

# Replicated tables: the conventional macro path; {uuid} would break `ON CLUSTER` re-creation.
_REPLICA_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


@dataclass(frozen=True)
class SchemaOptions:
    """What the DDL is generated for."""

    database: str = "default"
    """Database holding every table (created if missing)."""
    cluster: str | None = None
    """ClickHouse cluster name: Replicated tables `ON CLUSTER` plus Distributed tables."""
    ttl_days: int = 0
    """Drop data older than this many days (0: keep forever)."""
    refresh_seconds: int = RUN_HOURS_REFRESH_SECONDS
    """How often the run-hours states are recomputed for the groups that changed."""


def ident(name: str) -> str:
    """A ClickHouse identifier in backticks (the contrib exporter quotes the same way)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def literal(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Names:
    """Physical names for one schema: `<table>_local` + Distributed `<table>` in cluster mode."""

    def __init__(self, options: SchemaOptions) -> None:
        self.options = options
        self.db = ident(options.database)
        # With its leading space, so statements read the same with and without a cluster.
        self.on_cluster = f" ON CLUSTER {ident(options.cluster)}" if options.cluster else ""

    def local(self, table: str) -> str:
        """The table rows are written to by views and merged in."""
        return table + "_local" if self.options.cluster else table

    def q(self, table: str) -> str:
        return f"{self.db}.{ident(table)}"

    def engine(self, kind: str, *args: str) -> str:
        """`kind` is MergeTree, AggregatingMergeTree or ReplacingMergeTree; `args` its parameters."""
        if self.options.cluster:
            return f"Replicated{kind}({', '.join((_REPLICA_PATH, *args))})"
        return f"{kind}({', '.join(args)})"

    def ttl(self, column_expr: str) -> str:
        if self.options.ttl_days <= 0:
            return ""
        return f"TTL {column_expr} + toIntervalDay({self.options.ttl_days})"

    def distributed(self, table: str, sharding_key: str) -> str:
        """A Distributed table named `table` over `<table>_local` on every shard."""
        assert self.options.cluster is not None
        return (
            f"CREATE TABLE IF NOT EXISTS {self.q(table)}{self.on_cluster}\n"
            f"AS {self.q(self.local(table))}\n"
            f"ENGINE = Distributed({literal(self.options.cluster)}, {literal(self.options.database)}, "
            f"{literal(self.local(table))}, {sharding_key})"
        )


def _traces_table(n: _Names) -> str:
    # Verbatim from the contrib exporter's internal/sqltemplates/traces_table.sql (bloom-filter
    # branch, which every ClickHouse version accepts); only names, engine and TTL are filled in.
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(TRACES_TABLE))}{n.on_cluster} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = {n.engine("MergeTree")}
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
{n.ttl("toDateTime(Timestamp)")}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""


def _trace_id_ts_table(n: _Names) -> str:
    # contrib internal/sqltemplates/traces_id_ts_lookup_table.sql
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(TRACE_ID_TS_TABLE))}{n.on_cluster} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {n.engine("AggregatingMergeTree")}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
{n.ttl("toDateTime(Start)")}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""


def _trace_id_ts_view(n: _Names) -> str:
    # contrib internal/sqltemplates/traces_id_ts_lookup_mv.sql
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(TRACE_ID_TS_TABLE + "_mv")}{n.on_cluster}
TO {n.q(n.local(TRACE_ID_TS_TABLE))}
AS SELECT
    TraceId,
    min(toDateTime(Timestamp)) AS Start,
    max(toDateTime(Timestamp)) AS End
FROM {n.q(n.local(TRACES_TABLE))}
WHERE TraceId != ''
GROUP BY TraceId"""


def _costs_table(n: _Names) -> str:
    # Sorting key: the hour first (reports read partial hours from here; a retried span keeps its
    # timestamp, so its copies share the hour), then the span identity ReplacingMergeTree collapses.
    # cost_usd is a Decimal so sums are exact: no float drift between the report and a test.
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(COSTS_TABLE))}{n.on_cluster} (
    timestamp DateTime64(9, 'UTC') CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    span_name LowCardinality(String) CODEC(ZSTD(1)),
    service LowCardinality(String) CODEC(ZSTD(1)),
    customer LowCardinality(String) CODEC(ZSTD(1)),
    provider LowCardinality(String) CODEC(ZSTD(1)),
    model LowCardinality(String) CODEC(ZSTD(1)),
    operation LowCardinality(String) CODEC(ZSTD(1)),
    section_path String CODEC(ZSTD(1)),
    input_tokens UInt64 CODEC(T64, ZSTD(1)),
    output_tokens UInt64 CODEC(T64, ZSTD(1)),
    cache_read_tokens UInt64 CODEC(T64, ZSTD(1)),
    cache_creation_tokens UInt64 CODEC(T64, ZSTD(1)),
    reasoning_tokens UInt64 CODEC(T64, ZSTD(1)),
    units Map(String, Float64) CODEC(ZSTD(1)),
    cost_usd Decimal(38, 12) CODEC(ZSTD(1)),
    cost_source LowCardinality(String) CODEC(ZSTD(1)),
    cost_status LowCardinality(String) CODEC(ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_customer customer TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {n.engine("ReplacingMergeTree")}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (toStartOfHour(timestamp), trace_id, span_id)
{n.ttl("toDateTime(timestamp)")}
SETTINGS index_granularity = 8192"""


def _attr(key: str) -> str:
    return f"SpanAttributes[{literal(key)}]"


def _first_of(*keys: str) -> str:
    """The first non-empty span attribute among `keys` ('' when none)."""
    expr = _attr(keys[-1])
    for key in reversed(keys[:-1]):
        expr = f"if({_attr(key)} != '', {_attr(key)}, {expr})"
    return expr


def _count(*keys: str) -> str:
    # Via Float64 so a count exported as a double ("12", "12.0", "1.2e3") still reads.
    return f"toUInt64(greatest(0, toFloat64OrZero({_first_of(*keys)})))"


def _is_call() -> str:
    """Which spans are provider calls: the ones carrying a cost, a provider id or token usage."""
    has = " OR ".join(
        f"mapContains(SpanAttributes, {literal(key)})"
        for key in (
            sc.COST_USD,
            sc.PROVIDER,
            sc.GEN_AI_USAGE_INPUT_TOKENS,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS,
            sc.GEN_AI_USAGE_PROMPT_TOKENS,
            sc.GEN_AI_USAGE_COMPLETION_TOKENS,
        )
    )
    # A span marked duplicate describes a call already priced on another span (e.g. a stock
    # GenAI instrumentation's span beside our provider-call span): counting it would double it.
    # Agent spans (gen_ai.operation.name = invoke_agent) may carry their children's usage summed.
    return (
        f"({has})\n    AND {_attr(sc.COST_STATUS)} != {literal(sc.STATUS_DUPLICATE)}"
        f"\n    AND {_attr(sc.GEN_AI_OPERATION_NAME)} != 'invoke_agent'"
    )


def _costs_view(n: _Names) -> str:
    prefix = literal(sc.USAGE_PREFIX)
    units = (
        f"mapApply((k, v) -> (substring(k, {len(sc.USAGE_PREFIX) + 1}), toFloat64OrZero(v)),\n"
        f"        mapFilter((k, v) -> startsWith(k, {prefix}) AND isNotNull(toFloat64OrNull(v)), SpanAttributes))"
    )
    customer = (
        f"if({_attr(sc.CUSTOMER_ID)} != '', {_attr(sc.CUSTOMER_ID)}, "
        f"ResourceAttributes[{literal(sc.CUSTOMER_ID)}])"
    )
    # A cost without a status was priced by its caller; neither means nobody priced the call
    # (pricing off everywhere): '' then, which the report counts among the unpriced calls.
    status = (
        f"if({_attr(sc.COST_STATUS)} != '', {_attr(sc.COST_STATUS)}, "
        f"if(mapContains(SpanAttributes, {literal(sc.COST_USD)}), {literal(sc.STATUS_PRICED)}, ''))"
    )
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(COSTS_TABLE + "_mv")}{n.on_cluster}
TO {n.q(n.local(COSTS_TABLE))}
AS SELECT
    Timestamp AS timestamp,
    TraceId AS trace_id,
    SpanId AS span_id,
    SpanName AS span_name,
    ServiceName AS service,
    {customer} AS customer,
    lower({_first_of(sc.PROVIDER, sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_SYSTEM)}) AS provider,
    {_first_of(sc.GEN_AI_RESPONSE_MODEL, sc.GEN_AI_REQUEST_MODEL)} AS model,
    {_first_of(sc.OPERATION, sc.GEN_AI_OPERATION_NAME)} AS operation,
    {_attr(sc.SECTION_PATH)} AS section_path,
    {_count(sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_PROMPT_TOKENS)} AS input_tokens,
    {_count(sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.GEN_AI_USAGE_COMPLETION_TOKENS)} AS output_tokens,
    {_count(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)} AS cache_read_tokens,
    {_count(sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)} AS cache_creation_tokens,
    {_count(sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)} AS reasoning_tokens,
    {units} AS units,
    toDecimal128OrZero({_attr(sc.COST_USD)}, 12) AS cost_usd,
    {_attr(sc.COST_SOURCE)} AS cost_source,
    {status} AS cost_status
FROM {n.q(n.local(TRACES_TABLE))}
WHERE {_is_call()}"""


_SUMS = """    calls SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 12)),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cache_read_tokens SimpleAggregateFunction(sum, UInt64),
    cache_creation_tokens SimpleAggregateFunction(sum, UInt64),
    reasoning_tokens SimpleAggregateFunction(sum, UInt64),
    units SimpleAggregateFunction(sumMap, Map(String, Float64))"""

# Rollup table -> its dimensions besides the hour, in sorting-key order (customer first: the
# report's one filter). Traces get their own rollup: "the most expensive traces" over a month
# would otherwise aggregate every call of the month.
ROLLUPS: dict[str, tuple[str, ...]] = {
    COSTS_HOURLY_TABLE: (
        "customer",
        "service",
        "provider",
        "model",
        "operation",
        "section_path",
        "cost_status",
    ),
    COSTS_TRACES_TABLE: ("customer", "trace_id", "cost_status"),
}
_DIM_TYPES = {"section_path": "String", "trace_id": "String"}


def _rollup_table(n: _Names, table: str) -> str:
    dims = ROLLUPS[table]
    columns = "".join(f"    {d} {_DIM_TYPES.get(d, 'LowCardinality(String)')},\n" for d in dims)
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(table))}{n.on_cluster} (
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
{columns}{_SUMS}
) ENGINE = {n.engine("AggregatingMergeTree")}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, {", ".join(dims)})
{n.ttl("hour")}
SETTINGS index_granularity = 8192"""


def _rollup_view(n: _Names, table: str) -> str:
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(table + "_mv")}{n.on_cluster}
TO {n.q(n.local(table))}
AS {_rollup_select(n, table, "")}"""


def _rollup_select(n: _Names, table: str, final: str) -> str:
    dims = ", ".join(ROLLUPS[table])
    return f"""SELECT
    toStartOfHour(timestamp, 'UTC') AS hour,
    {dims},
    toUInt64(count()) AS calls,
    sum(cost_usd) AS cost_usd,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sumMap(units) AS units
FROM {n.q(n.local(COSTS_TABLE))}{final}
GROUP BY hour, {dims}"""


# An agent run is one agent's calls within one trace: the first `agent:` section of the call's path,
# and the trace (as a 64-bit hash, so grouping runs is a UInt64 hash table, not a string one).
_RUN_AGENT = "arrayFirst(p -> startsWith(p, 'agent:'), splitByChar('/', section_path))"


def _runs_table(n: _Names) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(COSTS_RUNS_TABLE))}{n.on_cluster} (
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    customer LowCardinality(String),
    service LowCardinality(String),
    agent LowCardinality(String),
    run UInt64,
    calls SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 12))
) ENGINE = {n.engine("AggregatingMergeTree")}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, customer, service, agent, run)
{n.ttl("hour")}
SETTINGS index_granularity = 8192"""


def _runs_select(n: _Names, final: str) -> str:
    return f"""SELECT
    toStartOfHour(timestamp, 'UTC') AS hour,
    customer,
    service,
    {_RUN_AGENT} AS agent,
    cityHash64(trace_id) AS run,
    toUInt64(count()) AS calls,
    sum(cost_usd) AS cost_usd
FROM {n.q(n.local(COSTS_TABLE))}{final}
WHERE agent != ''
GROUP BY hour, customer, service, agent, run"""


def _runs_view(n: _Names) -> str:
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(COSTS_RUNS_TABLE + "_mv")}{n.on_cluster}
TO {n.q(n.local(COSTS_RUNS_TABLE))}
AS {_runs_select(n, "")}"""


# Run-hours state tables -> their dimensions besides the hour. The fine one serves the customer and
# service filters; the coarse one the unfiltered panel, whose states then hold thousands of runs
# each, which the t-digest compresses (merging 25k small uncompressed states cost ~100 ms).
RUN_HOURS: dict[str, tuple[str, ...]] = {
    COSTS_RUN_HOURS_TABLE: ("customer", "service", "agent"),
    COSTS_AGENT_HOURS_TABLE: ("agent",),
}
RUN_COST_QUANTILE = 0.95


def _run_hours_table(n: _Names, table: str) -> str:
    dims = RUN_HOURS[table]
    columns = "".join(f"    {d} LowCardinality(String),\n" for d in dims)
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(table))}{n.on_cluster} (
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
{columns}    run_count UInt64,
    cost_usd Decimal(38, 12),
    run_cost_p95 AggregateFunction(quantileTDigest({RUN_COST_QUANTILE}), Float64),
    version DateTime64(6, 'UTC')
) ENGINE = {n.engine("ReplacingMergeTree", "version")}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, {", ".join(dims)})
{n.ttl("hour")}
SETTINGS index_granularity = 8192"""


def _run_hours_select(table: str, runs: str, where: str) -> str:
    """Every run of the groups `where` keeps, totalled, then one state row per group."""
    keys = ", ".join(("hour", *RUN_HOURS[table]))
    return f"""SELECT
    {keys},
    toUInt64(count()) AS run_count,
    sum(run_cost) AS cost_usd,
    quantileTDigestState({RUN_COST_QUANTILE})(toFloat64(run_cost)) AS run_cost_p95,
    now64(6, 'UTC') AS version
FROM (
    SELECT {keys}, run, sum(cost_usd) AS run_cost
    FROM {runs}{where}
    GROUP BY {keys}, run
)
GROUP BY {keys}"""


def _run_hours_dirty_table(n: _Names) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(COSTS_RUN_HOURS_DIRTY_TABLE))}{n.on_cluster} (
    hour DateTime('UTC'),
    customer LowCardinality(String),
    service LowCardinality(String),
    agent LowCardinality(String),
    touched DateTime64(3, 'UTC')
) ENGINE = {n.engine("MergeTree")}
ORDER BY touched
TTL toDateTime(touched) + toIntervalDay(1)"""


def _run_hours_dirty_view(n: _Names) -> str:
    # Per insert into the runs rollup, only which groups it touched (a few rows a block).
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(COSTS_RUN_HOURS_DIRTY_TABLE + "_mv")}{n.on_cluster}
TO {n.q(n.local(COSTS_RUN_HOURS_DIRTY_TABLE))}
AS SELECT DISTINCT hour, customer, service, agent, now64(3, 'UTC') AS touched
FROM {n.q(n.local(COSTS_RUNS_TABLE))}"""


def _run_hours_refresh(n: _Names, table: str) -> str:
    # Every `refresh_seconds`, the groups touched since the table's last refresh (its newest version,
    # less a margin for inserts that were still committing) are recomputed from every run.
    keys = ", ".join(("hour", *RUN_HOURS[table]))
    target = n.q(n.local(table))
    touched = (
        f"SELECT DISTINCT {keys} FROM {n.q(n.local(COSTS_RUN_HOURS_DIRTY_TABLE))}\n"
        f"        WHERE touched >= (SELECT max(version) FROM {target}) - toIntervalSecond({_REFRESH_MARGIN_SECONDS})"
    )
    where = f"\n    WHERE ({keys}) IN (\n        {touched}\n    )"
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(table + "_refresh")}{n.on_cluster}
REFRESH EVERY {n.options.refresh_seconds} SECOND APPEND
TO {target}
AS {_run_hours_select(table, n.q(n.local(COSTS_RUNS_TABLE)), where)}"""


def run_hours_refresh_views() -> list[str]:
    """The refreshable views that recompute the run-hours states (`SYSTEM REFRESH VIEW` runs one now)."""
    return [table + "_refresh" for table in RUN_HOURS]


# Views an older schema had and this one replaces; dropped when the schema is ensured.
_RETIRED_VIEWS = (
    "llmobserve_costs_run_hours_mv",
    "llmobserve_costs_agent_hours_mv",
    "llmobserve_costs_runs_read",
)


def _trace_keys_table(n: _Names) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {n.q(n.local(COSTS_TRACE_KEYS_TABLE))}{n.on_cluster} (
    hour DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    customer LowCardinality(String),
    trace UInt64,
    trace_id SimpleAggregateFunction(any, String) CODEC(ZSTD(1)),
    calls SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Decimal(38, 12))
) ENGINE = {n.engine("AggregatingMergeTree")}
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, customer, trace)
{n.ttl("hour")}
SETTINGS index_granularity = 8192"""


def _trace_keys_select(n: _Names, final: str) -> str:
    # The trace id's 64-bit hash is the key (grouping 1.25M traces a week on it is ~3x faster than
    # on the 32-character id); the id rides along for display.
    return f"""SELECT
    toStartOfHour(timestamp, 'UTC') AS hour,
    customer,
    trace,
    any(id) AS trace_id,
    toUInt64(count()) AS calls,
    sum(cost_usd) AS cost_usd
FROM (
    SELECT timestamp, customer, cityHash64(trace_id) AS trace, trace_id AS id, cost_usd
    FROM {n.q(n.local(COSTS_TABLE))}{final}
)
GROUP BY hour, customer, trace"""


def _trace_keys_view(n: _Names) -> str:
    return f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {n.q(COSTS_TRACE_KEYS_TABLE + "_mv")}{n.on_cluster}
TO {n.q(n.local(COSTS_TRACE_KEYS_TABLE))}
AS {_trace_keys_select(n, "")}"""


def rebuild_rollup_statements(options: SchemaOptions | None = None) -> list[str]:
    """Statements that refill every rollup from `llmobserve_costs FINAL` (single node).

    For a store whose rollups saw copies of spans (written by several collectors without a
    shared window): the cost table's deduplicated rows are the truth. Stop writers first.
    """
    n = _Names(options or SchemaOptions())
    if n.options.cluster:
        raise ValueError("rebuild the rollups shard by shard on a cluster")
    statements = []
    for table in ROLLUPS:
        statements.append(f"TRUNCATE TABLE {n.q(table)}")
        statements.append(f"INSERT INTO {n.q(table)}\n{_rollup_select(n, table, ' FINAL')}")
    # This insert marks every group touched; the next refresh (`refresh_views()`) recomputes them.
    statements.extend(f"TRUNCATE TABLE {n.q(table)}" for table in RUN_HOURS)
    statements.append(f"TRUNCATE TABLE {n.q(COSTS_RUNS_TABLE)}")
    statements.append(f"INSERT INTO {n.q(COSTS_RUNS_TABLE)}\n{_runs_select(n, ' FINAL')}\nORDER BY hour")
    statements.append(f"TRUNCATE TABLE {n.q(COSTS_TRACE_KEYS_TABLE)}")
    statements.append(f"INSERT INTO {n.q(COSTS_TRACE_KEYS_TABLE)}\n{_trace_keys_select(n, ' FINAL')}")
    return statements


def schema_statements(options: SchemaOptions | None = None) -> list[str]:
    """Every DDL statement of the store, in creation order; each is idempotent (IF NOT EXISTS)."""
    n = _Names(options or SchemaOptions())
    cluster = n.options.cluster is not None
    statements = [f"CREATE DATABASE IF NOT EXISTS {n.db}{n.on_cluster}".rstrip()]
    # Tables before the views that write into them, the source table before views reading it.
    statements.append(_traces_table(n))
    if cluster:
        statements.append(n.distributed(TRACES_TABLE, "cityHash64(TraceId)"))
    statements.append(_trace_id_ts_table(n))
    if cluster:
        statements.append(n.distributed(TRACE_ID_TS_TABLE, "cityHash64(TraceId)"))
    statements.append(_trace_id_ts_view(n))
    statements.append(_costs_table(n))
    if cluster:
        statements.append(n.distributed(COSTS_TABLE, "cityHash64(trace_id)"))
    for table in ROLLUPS:
        statements.append(_rollup_table(n, table))
        if cluster:
            statements.append(n.distributed(table, "rand()"))
    # The rollup views before the cost view: once the cost view exists, inserts flow into the cost
    # table and must already cascade into the rollups.
    statements.extend(_rollup_view(n, table) for table in ROLLUPS)
    # The agent-run rollup (dashboards), created after the others so existing stores only gain it.
    statements.append(_runs_table(n))
    if cluster:
        statements.append(n.distributed(COSTS_RUNS_TABLE, "rand()"))
    statements.append(_runs_view(n))
    # The run-hours states (dashboards), after the runs rollup they are computed from.
    statements.extend(f"DROP VIEW IF EXISTS {n.q(view)}{n.on_cluster}" for view in _RETIRED_VIEWS)
    statements.append(_run_hours_dirty_table(n))
    statements.append(_run_hours_dirty_view(n))
    for table in RUN_HOURS:
        statements.append(_run_hours_table(n, table))
        if cluster:
            statements.append(n.distributed(table, "rand()"))
    statements.extend(_run_hours_refresh(n, table) for table in RUN_HOURS)
    statements.append(_trace_keys_table(n))
    if cluster:
        statements.append(n.distributed(COSTS_TRACE_KEYS_TABLE, "rand()"))
    statements.append(_trace_keys_view(n))
    statements.append(_costs_view(n))
    return [_tidy(s) for s in statements]


def _tidy(statement: str) -> str:
    # Drop the blank lines left by empty TTL / cluster clauses.
    lines = [line.rstrip() for line in statement.splitlines()]
    return "\n".join(line for line in lines if line.strip())
