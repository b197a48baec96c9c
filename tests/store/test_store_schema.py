"""The DDL: contrib-exporter compatibility, idempotence, the cluster variant, the cost views."""

from __future__ import annotations

from typing import Any

from store_helpers import insert, span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import (
    TRACES_INSERT_COLUMNS,
    SchemaOptions,
    ensure_schema,
    schema_statements,
)

# The contrib exporter's traces_table.sql column list (bloom-filter branch), name and type.
CONTRIB_TRACES_COLUMNS = [
    ("Timestamp", "DateTime64(9)"),
    ("TraceId", "String"),
    ("SpanId", "String"),
    ("ParentSpanId", "String"),
    ("TraceState", "String"),
    ("SpanName", "LowCardinality(String)"),
    ("SpanKind", "LowCardinality(String)"),
    ("ServiceName", "LowCardinality(String)"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeName", "String"),
    ("ScopeVersion", "String"),
    ("SpanAttributes", "Map(LowCardinality(String), String)"),
    ("Duration", "UInt64"),
    ("StatusCode", "LowCardinality(String)"),
    ("StatusMessage", "String"),
    ("Events.Timestamp", "Array(DateTime64(9))"),
    ("Events.Name", "Array(LowCardinality(String))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))"),
    ("Links.TraceId", "Array(String)"),
    ("Links.SpanId", "Array(String)"),
    ("Links.TraceState", "Array(String)"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
    ("ResourceAttributeItems", "Array(String)"),
    ("SpanAttributeItems", "Array(String)"),
]


def test_otel_traces_has_the_contrib_exporter_columns(store: Any) -> None:
    columns = store.query(
        "SELECT name, type FROM system.columns WHERE database = 'default' AND table = 'otel_traces' ORDER BY position"
    ).result_rows
    assert [tuple(c) for c in columns] == CONTRIB_TRACES_COLUMNS
    keys = store.query(
        "SELECT sorting_key, primary_key, partition_key FROM system.tables WHERE name = 'otel_traces'"
    ).result_rows
    assert keys == [
        (
            "ServiceName, SpanName, toDateTime(Timestamp), Timestamp",
            "ServiceName, SpanName, toDateTime(Timestamp)",
            "toDate(Timestamp)",
        )
    ]


def test_insert_columns_are_the_contrib_exporters() -> None:
    assert tuple(name for name, _ in CONTRIB_TRACES_COLUMNS[:22]) == TRACES_INSERT_COLUMNS


def test_schema_creation_is_idempotent(store: Any) -> None:
    ensure_schema(store)
    ensure_schema(store)
    tables = [r[0] for r in store.query("SHOW TABLES").result_rows]
    assert tables == [
        "llmobserve_costs",
        "llmobserve_costs_agent_hours",
        "llmobserve_costs_agent_hours_refresh",
        "llmobserve_costs_hourly",
        "llmobserve_costs_hourly_mv",
        "llmobserve_costs_mv",
        "llmobserve_costs_run_hours",
        "llmobserve_costs_run_hours_dirty",
        "llmobserve_costs_run_hours_dirty_mv",
        "llmobserve_costs_run_hours_refresh",
        "llmobserve_costs_runs",
        "llmobserve_costs_runs_mv",
        "llmobserve_costs_trace_keys",
        "llmobserve_costs_trace_keys_mv",
        "llmobserve_costs_traces",
        "llmobserve_costs_traces_mv",
        "otel_traces",
        "otel_traces_trace_id_ts",
        "otel_traces_trace_id_ts_mv",
    ]


def test_every_statement_is_if_not_exists() -> None:
    for statement in schema_statements(SchemaOptions(cluster="prod")):
        first = statement.split("\n")[0]
        assert " IF NOT EXISTS " in first or first.startswith("DROP VIEW IF EXISTS "), statement[:80]


def test_cluster_variant_replicates_and_distributes() -> None:
    text = "\n".join(schema_statements(SchemaOptions(cluster="prod", database="obs", ttl_days=30)))
    tables = (
        "otel_traces",
        "otel_traces_trace_id_ts",
        "llmobserve_costs",
        "llmobserve_costs_hourly",
        "llmobserve_costs_traces",
        "llmobserve_costs_runs",
        "llmobserve_costs_run_hours",
        "llmobserve_costs_agent_hours",
        "llmobserve_costs_trace_keys",
    )
    for table in tables:
        assert f"CREATE TABLE IF NOT EXISTS `obs`.`{table}_local` ON CLUSTER `prod`" in text
        assert (
            f"CREATE TABLE IF NOT EXISTS `obs`.`{table}` ON CLUSTER `prod`\nAS `obs`.`{table}_local`" in text
        )
    assert "ENGINE = Distributed('prod', 'obs', 'otel_traces_local', cityHash64(TraceId))" in text
    assert "ENGINE = Distributed('prod', 'obs', 'llmobserve_costs_local', cityHash64(trace_id))" in text
    assert "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')" in text
    assert "ReplicatedReplacingMergeTree(" in text and "ReplicatedAggregatingMergeTree(" in text
    # Views read the local tables, so they run on the shard that receives the rows.
    assert "TO `obs`.`llmobserve_costs_local`" in text and "FROM `obs`.`otel_traces_local`" in text
    assert "TTL toDateTime(Timestamp) + toIntervalDay(30)" in text
    assert " MergeTree()" not in text


def test_single_node_variant_has_no_cluster_parts() -> None:
    text = "\n".join(schema_statements())
    assert "ON CLUSTER" not in text and "Distributed" not in text and "_local" not in text
    # No data expires; only the run-hours bookkeeping (which groups changed) is kept for a day.
    assert text.count("TTL") == 1 and "TTL toDateTime(touched) + toIntervalDay(1)" in text


H = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z


def test_cost_view_types_a_call(store: Any) -> None:
    attributes = {
        sc.PROVIDER: "OpenAI",
        sc.GEN_AI_PROVIDER_NAME: "azure.ai.openai",
        sc.OPERATION: "chat",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 1200,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 300.0,  # a double count still reads as a count
        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 200,
        sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 50,
        sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 64,
        sc.USAGE_PREFIX + "characters": 12.5,
        sc.USAGE_INCOMPLETE: True,  # a diagnostic under the usage prefix, not a unit
        sc.COST_USD: 1e-7,
        sc.COST_SOURCE: "sdk",
        sc.CUSTOMER_ID: "acme",
        sc.SECTION_PATH: "agent:research/tool:search",
    }
    insert(store, [span(H, "typed", attributes, service="svc", span_id=7)])
    rows = store.query(
        "SELECT * EXCEPT timestamp FROM llmobserve_costs FINAL WHERE trace_id = {t:String}",
        parameters={"t": b"typed".hex().rjust(32, "0")},
    )
    assert [dict(zip(rows.column_names, r, strict=True)) for r in rows.result_rows] == [
        {
            "trace_id": b"typed".hex().rjust(32, "0"),
            "span_id": "0000000000000007",
            "span_name": "call",
            "service": "svc",
            "customer": "acme",
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "operation": "chat",
            "section_path": "agent:research/tool:search",
            "input_tokens": 1200,
            "output_tokens": 300,
            "cache_read_tokens": 200,
            "cache_creation_tokens": 50,
            "reasoning_tokens": 64,
            "units": {"characters": 12.5},
            "cost_usd": store.query("SELECT toDecimal128('0.0000001', 12)").result_rows[0][0],
            "cost_source": "sdk",
            "cost_status": "priced",
        }
    ]


def test_cost_view_skips_spans_that_are_not_calls(store: Any) -> None:
    before = store.query("SELECT count() FROM llmobserve_costs").result_rows[0][0]
    insert(
        store,
        [
            span(H, "nocall", {sc.SECTION_PATH: "agent:a", sc.SECTION_NAME: "a", sc.SECTION_KIND: "agent"}),
            span(H, "nocall", {"http.request.method": "GET", sc.CUSTOMER_ID: "acme"}),
            span(H, "nocall", {sc.PROVIDER: "openai", sc.COST_STATUS: sc.STATUS_DUPLICATE}),
            span(H, "nocall", {sc.GEN_AI_OPERATION_NAME: "invoke_agent", sc.GEN_AI_USAGE_INPUT_TOKENS: 5}),
        ],
    )
    assert store.query("SELECT count() FROM llmobserve_costs").result_rows[0][0] == before
    assert (
        store.query("SELECT count() FROM otel_traces WHERE TraceId LIKE '%6e6f63616c6c'").result_rows[0][0]
        == 4
    )


def test_events_and_links_round_trip_with_nanoseconds(store: Any) -> None:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from llmobserve_otel.store._rows import span_row

    proto = Span(
        trace_id=b"\x0e" * 16,
        span_id=b"\x02" * 8,
        name="with events",
        start_time_unix_nano=1_700_000_000_123_456_789,
        end_time_unix_nano=1_700_000_001_000_000_000,
        events=[
            Span.Event(
                time_unix_nano=1_700_000_000_500_000_001,
                name="retry",
                attributes=[KeyValue(key="attempt", value=AnyValue(int_value=2))],
            )
        ],
        links=[
            Span.Link(
                trace_id=b"\x03" * 16,
                span_id=b"\x04" * 8,
                attributes=[KeyValue(key="follows", value=AnyValue(bool_value=True))],
            )
        ],
    )
    row = span_row(
        proto, service_name="svc", resource_attributes={}, scope_name="", scope_version="", span_attributes={}
    )
    insert(store, [row])
    stored = store.query(
        "SELECT toUnixTimestamp64Nano(Timestamp), arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), "
        "Events.Name, Events.Attributes, Links.TraceId, Links.SpanId, Links.Attributes, Duration "
        "FROM otel_traces WHERE TraceId = {t:String}",
        parameters={"t": "0e" * 16},
    ).result_rows
    assert stored == [
        (
            1_700_000_000_123_456_789,
            [1_700_000_000_500_000_001],
            ["retry"],
            [{"attempt": "2"}],
            ["03" * 16],
            ["04" * 8],
            [{"follows": "true"}],
            876_543_211,
        )
    ]
