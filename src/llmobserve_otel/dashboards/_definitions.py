"""The four dashboards: cost overview, customers, agents and sections, trace explorer.

Every panel's SQL reads the typed cost tables, never the raw attribute maps: the hourly rollup
(`llmobserve_costs_hourly`) for totals, breakdowns and time series, the trace-keys rollup
(`llmobserve_costs_trace_keys`) for the most expensive traces, the run-hours states
(`llmobserve_costs_agent_hours`, `llmobserve_costs_run_hours`, computed from the agent-run rollup)
for the cost per agent run, `llmobserve_costs FINAL` for one trace's calls, and `otel_traces` only
for the span tree of one trace (Grafana's traces view needs the span columns).

Time: rollup panels take every hour that overlaps the dashboard's range (`hour >=
toStartOfHour($__fromTime, 'UTC') AND hour <= $__toTime`), so an edge hour counts whole (a plain
`$__timeFilter(hour)` would drop the hour the range starts in); time series bucket with
`$__timeInterval(hour)` (at least an hour: the panels set a 1h minimum interval). Filters: each variable is multi-valued with "All" (`allValue` = `'__all__'`,
which Grafana inserts unformatted), so `_where_in` reads "All selected, or the column is one of the
selected values".
"""

from __future__ import annotations

from llmobserve_otel.dashboards._model import ALL, Dashboard, Panel, Variable
from llmobserve_otel.store._schema import (
    COSTS_AGENT_HOURS_TABLE,
    COSTS_HOURLY_TABLE,
    COSTS_RUN_HOURS_TABLE,
    COSTS_TABLE,
    COSTS_TRACE_KEYS_TABLE,
    RUN_COST_QUANTILE,
    TRACE_ID_TS_TABLE,
    TRACES_TABLE,
)
from llmobserve_otel.store._tree import NO_SECTION

__all__ = ("DASHBOARDS", "VARIABLES", "dashboard")

HOURLY = COSTS_HOURLY_TABLE
_FILTERED = ("service", "customer", "provider", "model")


def _where_in(column: str, variable: str) -> str:
    values = f"${{{variable}:sqlstring}}"
    return f"('{ALL}' IN ({values}) OR {column} IN ({values}))"


def _filters(*names: str) -> str:
    return " AND ".join(_where_in(name, name) for name in names)


_HOURS = "hour >= toStartOfHour($__fromTime, 'UTC') AND hour <= $__toTime"
_ROLLUP_WHERE = f"{_HOURS}\n  AND {_filters(*_FILTERED)}"


def _options(column: str) -> str:
    return f"SELECT DISTINCT {column} FROM {HOURLY}\nWHERE {_HOURS} AND {column} != ''\nORDER BY {column}"


VARIABLES: dict[str, Variable] = {
    "datasource": Variable("datasource", "Data source", "datasource", multi=False, include_all=False),
    "service": Variable("service", "Service", "query", _options("service")),
    "customer": Variable("customer", "Customer", "query", _options("customer")),
    "provider": Variable("provider", "Provider", "query", _options("provider")),
    "model": Variable("model", "Model", "query", _options("model")),
    "trace_id": Variable("trace_id", "Trace id", "textbox", multi=False, include_all=False),
}
_COMMON = ("datasource", "service", "customer", "provider", "model")

_SECTION = f"if(section_path = '', '{NO_SECTION}', section_path)"
_MODEL_LABEL = "if(model = '', provider, concat(provider, ' / ', model))"


def _stat(key: str, title: str, expr: str, unit: str, description: str) -> Panel:
    return Panel(
        key=key,
        title=title,
        sql=f"SELECT {expr}\nFROM {HOURLY}\nWHERE {_ROLLUP_WHERE}",
        viz="stat",
        unit=unit,
        width=6,
        height=4,
        value=expr.rsplit(" AS ", 1)[1],
        description=description,
    )


def _over_time(key: str, title: str, series: str, description: str) -> Panel:
    return Panel(
        key=key,
        title=title,
        sql=(
            f"SELECT $__timeInterval(hour) AS time, {series}, sum(cost_usd) AS cost\n"
            f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
            f"GROUP BY time, {series}\nORDER BY time, {series}"
        ),
        viz="timeseries",
        unit="currencyUSD",
        width=24,
        value="cost",
        label=series,
        description=description,
    )


TOP_TRACES = Panel(
    key="top_traces",
    title="Most expensive traces",
    # Ranks on the trace id's 64-bit hash (the trace-keys rollup): a fixed-size key aggregates
    # about 3x faster than the 32-character id (1.25M traces a week at 10M spans). The inner query
    # picks the 20 keys; the outer one totals just their rows again, with the id. Two traces
    # sharing a hash (odds ~1e-7 a week at that volume) would show as one.
    sql=(
        "SELECT any(trace_id) AS trace_id, min(hour) AS first_hour, sum(calls) AS n_calls,\n"
        "  sum(cost_usd) AS cost\n"
        f"FROM {COSTS_TRACE_KEYS_TABLE}\nWHERE {_HOURS}\n  AND {_filters('customer')}\n"
        "  AND trace IN (\n"
        f"    SELECT trace\n    FROM {COSTS_TRACE_KEYS_TABLE}\n    WHERE {_HOURS}\n"
        f"      AND {_filters('customer')}\n"
        "    GROUP BY trace\n    ORDER BY sum(cost_usd) DESC, trace\n    LIMIT 20\n  )\n"
        "GROUP BY trace\nORDER BY cost DESC, trace_id"
    ),
    viz="table",
    unit="currencyUSD",
    width=24,
    value="cost",
    trace_link="trace_id",
    description=(
        "The 20 traces that cost the most (ties at the cut broken by the trace id's hash). "
        "From the trace rollup, which is kept per customer only: the service, provider and model "
        "filters do not apply here. Click a trace id to open it in the trace explorer."
    ),
)

COST_OVERVIEW = Dashboard(
    uid="llmobserve-cost-overview",
    title="LLM cost overview",
    description="What paid API calls cost: totals, over time by provider, top models, customers and services.",
    variables=_COMMON,
    panels=(
        _stat(
            "total_cost", "Total cost", "sum(cost_usd) AS cost", "currencyUSD", "Sum of every call's cost."
        ),
        _stat("calls", "Calls", "sum(calls) AS n_calls", "short", "Provider calls, priced or not."),
        _stat(
            "tokens",
            "Tokens",
            "sum(input_tokens) + sum(output_tokens) AS tokens",
            "short",
            "Input plus output tokens (input includes cached tokens).",
        ),
        _stat(
            "cost_per_call",
            "Cost per call",
            "toFloat64(sum(cost_usd)) / nullIf(sum(calls), 0) AS cost_per_call",
            "currencyUSD",
            "Total cost divided by the number of calls.",
        ),
        _over_time(
            "cost_by_provider",
            "Cost over time by provider",
            "provider",
            "Cost per interval, one series per provider.",
        ),
        Panel(
            key="top_models",
            title="Top models",
            sql=(
                f"SELECT {_MODEL_LABEL} AS model_label, sum(cost_usd) AS cost\n"
                f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY provider, model\nORDER BY cost DESC, model_label\nLIMIT 10"
            ),
            viz="barchart",
            unit="currencyUSD",
            width=8,
            value="cost",
            label="model_label",
            description="The ten models (or non-LLM providers) that cost the most.",
        ),
        Panel(
            key="top_customers",
            title="Top customers",
            sql=(
                "SELECT if(customer = '', '(none)', customer) AS customer_label, sum(cost_usd) AS cost\n"
                f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY customer\nORDER BY cost DESC, customer_label\nLIMIT 10"
            ),
            viz="barchart",
            unit="currencyUSD",
            width=8,
            value="cost",
            label="customer_label",
            description="The ten customers that cost the most.",
        ),
        Panel(
            key="cost_by_service",
            title="Cost by service",
            sql=(
                f"SELECT service AS service_label, sum(cost_usd) AS cost\nFROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY service\nORDER BY cost DESC, service_label"
            ),
            viz="piechart",
            unit="currencyUSD",
            width=8,
            value="cost",
            label="service_label",
            description="Share of the cost per instrumented service.",
        ),
    ),
)

CUSTOMERS = Dashboard(
    uid="llmobserve-customers",
    title="LLM cost by customer",
    description="One customer (or several) at a time: cost over time, by provider and model, by section, top traces.",
    variables=_COMMON,
    panels=(
        _over_time(
            "customer_cost_over_time",
            "Cost over time",
            "customer",
            "Cost per interval, one series per customer.",
        ),
        Panel(
            key="customer_models",
            title="By provider and model",
            sql=(
                "SELECT provider, model, sum(calls) AS n_calls, sum(input_tokens) AS input_tokens_total,\n"
                "  sum(output_tokens) AS output_tokens_total, sum(cost_usd) AS cost\n"
                f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY provider, model\nORDER BY cost DESC, provider, model"
            ),
            viz="table",
            unit="currencyUSD",
            value="cost",
            description="Calls, tokens and cost per provider and model.",
        ),
        Panel(
            key="customer_sections",
            title="By section",
            sql=(
                f"SELECT {_SECTION} AS section, sum(calls) AS n_calls, sum(cost_usd) AS cost\n"
                f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY section\nORDER BY cost DESC, section"
            ),
            viz="barchart",
            unit="currencyUSD",
            value="cost",
            label="section",
            description="Cost of the calls made directly in each section path.",
        ),
        TOP_TRACES,
    ),
)

# Both filters of the agent-run panel on All: the per-agent states answer it.
_UNFILTERED_RUNS = " AND ".join(f"'{ALL}' IN (${{{name}:sqlstring}})" for name in ("service", "customer"))

# Every prefix of a call's section path is a node that the call's cost rolls up into.
_NODES = "arrayMap(i -> arrayStringConcat(arraySlice(parts, 1, i), '/'), range(1, length(parts) + 1))"

AGENTS = Dashboard(
    uid="llmobserve-agents",
    title="LLM cost by agent and section",
    description="Cost rolled up along the section path (agent -> step -> tool), cost per agent run, usage per section.",
    variables=_COMMON,
    panels=(
        Panel(
            key="section_tree",
            title="Cost by agent, step and tool",
            sql=(
                "SELECT node AS section, length(splitByChar('/', node)) AS depth,\n"
                "  concat(repeat('    ', depth - 1), arrayElement(splitByChar('/', node), -1)) AS name,\n"
                "  sum(cost_usd) AS cost, sumIf(cost_usd, node = path) AS self_cost, sum(calls) AS n_calls\n"
                f"FROM (\n  SELECT {_SECTION} AS path, splitByChar('/', path) AS parts, cost_usd, calls\n"
                f"  FROM {HOURLY}\n  WHERE {_ROLLUP_WHERE}\n)\n"
                f"ARRAY JOIN {_NODES} AS node\n"
                "GROUP BY node\nORDER BY splitByChar('/', node)"
            ),
            viz="tree",
            unit="currencyUSD",
            width=24,
            height=10,
            value="cost",
            label="section",
            description=(
                "Each section's cost includes everything below it; `self_cost` is the calls made "
                "directly in it. Rows in tree order."
            ),
        ),
        Panel(
            key="agent_runs",
            title="Cost per agent run",
            # Merges hourly states instead of totalling every run in the range (2.5M runs a week at
            # 10M spans took 150-650 ms even grouped on one 64-bit key): per hour x agent when the
            # service and customer filters are on All, else per hour x customer x service x agent.
            sql=(
                "SELECT agent, sum(run_count) AS runs,\n"
                "  toFloat64(sum(cost_usd)) / sum(run_count) AS avg_cost,\n"
                f"  quantileTDigestMerge({RUN_COST_QUANTILE})(run_cost_p95) AS p95_cost,\n"
                "  toFloat64(sum(cost_usd)) AS cost\n"
                "FROM (\n"
                "  SELECT agent, run_count, cost_usd, run_cost_p95\n"
                f"  FROM {COSTS_AGENT_HOURS_TABLE} FINAL\n  WHERE {_HOURS}\n    AND {_UNFILTERED_RUNS}\n"
                "  UNION ALL\n"
                "  SELECT agent, run_count, cost_usd, run_cost_p95\n"
                f"  FROM {COSTS_RUN_HOURS_TABLE} FINAL\n  WHERE {_HOURS}\n    AND NOT ({_UNFILTERED_RUNS})\n"
                f"    AND {_filters('service', 'customer')}\n"
                ")\n"
                "GROUP BY agent\nORDER BY cost DESC, agent"
            ),
            viz="table",
            unit="currencyUSD",
            value="avg_cost",
            label="agent",
            description=(
                "A run is one agent's calls within one trace, counted per hour: a run that crosses "
                "an hour boundary counts once in each hour. The average is exact; p95 is approximate "
                "(ClickHouse t-digest, merged from hourly states). Runs are whole: the provider and "
                "model filters do not apply here."
            ),
        ),
        Panel(
            key="section_usage",
            title="Calls and tokens per section",
            sql=(
                f"SELECT {_SECTION} AS section, sum(calls) AS n_calls, sum(input_tokens) AS input_tokens_total,\n"
                "  sum(output_tokens) AS output_tokens_total, sum(cost_usd) AS cost\n"
                f"FROM {HOURLY}\nWHERE {_ROLLUP_WHERE}\n"
                "GROUP BY section\nORDER BY n_calls DESC, section"
            ),
            viz="table",
            unit="short",
            value="n_calls",
            label="section",
            description="The calls made directly in each section path, with their tokens.",
        ),
    ),
)

_TRACE = "${trace_id:sqlstring}"
# The traces plugin's own "trace by id" query shape: the lookup table bounds the time range first.
_TRACE_WINDOW = (
    f"Timestamp >= (SELECT min(Start) FROM {TRACE_ID_TS_TABLE} WHERE TraceId = {_TRACE})\n"
    f"    AND Timestamp <= (SELECT max(End) + 1 FROM {TRACE_ID_TS_TABLE} WHERE TraceId = {_TRACE})"
)

TRACE_EXPLORER = Dashboard(
    uid="llmobserve-trace-explorer",
    title="LLM trace explorer",
    description="One trace's span tree with the cost of each span and of its subtree.",
    variables=(*_COMMON, "trace_id"),
    time_from="now-7d",
    panels=(
        TOP_TRACES,
        Panel(
            key="trace",
            title="Trace",
            sql=(
                "SELECT TraceId AS traceID, SpanId AS spanID, ParentSpanId AS parentSpanID,\n"
                "  ServiceName AS serviceName, SpanName AS operationName, Timestamp AS startTime,\n"
                "  multiply(Duration, 0.000001) AS duration,\n"
                "  arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,\n"
                "  arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,\n"
                "  if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode\n"
                f"FROM {TRACES_TABLE}\nWHERE TraceId = {_TRACE}\n    AND {_TRACE_WINDOW}\n"
                "ORDER BY startTime ASC\nLIMIT 1000"
            ),
            viz="traces",
            width=24,
            height=12,
            local=False,
            description="Grafana's trace view of the spans (the plugin's OTel trace columns).",
        ),
        Panel(
            key="span_costs",
            title="Span costs",
            sql=(
                "WITH RECURSIVE\n"
                "spans AS (\n"
                "  SELECT SpanId AS span_id, ParentSpanId AS parent_id, SpanName AS name, ServiceName AS service,\n"
                "    Timestamp AS start, Duration AS duration_ns\n"
                f"  FROM {TRACES_TABLE}\n  WHERE TraceId = {_TRACE}\n    AND {_TRACE_WINDOW}\n"
                "),\n"
                "calls AS (\n"
                "  SELECT span_id, sum(cost_usd) AS cost, any(provider) AS provider, any(model) AS model\n"
                f"  FROM {COSTS_TABLE} FINAL\n  WHERE trace_id = {_TRACE}\n  GROUP BY span_id\n"
                "),\n"
                "chain AS (\n"
                "  SELECT span_id AS leaf, span_id AS node, parent_id AS up, 0 AS hops FROM spans\n"
                "  UNION ALL\n"
                "  SELECT chain.leaf, spans.span_id, spans.parent_id, chain.hops + 1\n"
                "  FROM chain JOIN spans ON spans.span_id = chain.up\n"
                "  WHERE chain.hops < 64\n"
                "),\n"
                "subtree AS (\n"
                "  SELECT chain.node AS span_id, sum(calls.cost) AS cost\n"
                "  FROM chain JOIN calls ON calls.span_id = chain.leaf\n  GROUP BY chain.node\n"
                "),\n"
                "depths AS (SELECT leaf AS span_id, max(hops) AS depth FROM chain GROUP BY leaf)\n"
                "SELECT spans.span_id AS span_id, spans.parent_id AS parent_id, depths.depth AS depth,\n"
                "  concat(repeat('    ', depths.depth), spans.name) AS span, spans.service AS service,\n"
                "  calls.provider AS provider, calls.model AS model, calls.cost AS self_cost,\n"
                "  subtree.cost AS subtree_cost, spans.duration_ns / 1e6 AS duration_ms, spans.start AS start\n"
                "FROM spans\n"
                "LEFT JOIN calls ON calls.span_id = spans.span_id\n"
                "LEFT JOIN subtree ON subtree.span_id = spans.span_id\n"
                "LEFT JOIN depths ON depths.span_id = spans.span_id\n"
                "ORDER BY start, depth, span_id"
            ),
            viz="spans",
            unit="currencyUSD",
            width=24,
            height=12,
            value="subtree_cost",
            label="span",
            description=(
                "Each span of the trace: its own call's cost (`self_cost`) and the cost of it and "
                "everything below it (`subtree_cost`). Needs ClickHouse 24.4+ (recursive CTE)."
            ),
        ),
    ),
)

DASHBOARDS: tuple[Dashboard, ...] = (COST_OVERVIEW, CUSTOMERS, AGENTS, TRACE_EXPLORER)


def dashboard(uid: str) -> Dashboard:
    """The dashboard with this uid (KeyError when none)."""
    for board in DASHBOARDS:
        if board.uid == uid:
            return board
    raise KeyError(uid)
