"""Report query latency at 1M (and 10M) spans in the embedded store.

Fills a fresh chDB store through `otel_traces` (so the cost views and the hourly rollup fill the
way they do in production) with provider-call spans spread over 7 days: 50 customers, 3
services, 12 sections, each section calling one model (as an agent's steps do), 8 calls a trace.
Then times every report query (median of 5 after one warm-up).

    .venv/bin/python benchmarks/queries.py --spans 1000000
    .venv/bin/python benchmarks/queries.py --spans 10000000

Directional, not a CI threshold (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import ReportQuery, open_store, refresh_views, report_rows
from llmobserve_otel.store._schema import literal

HOUR = 3_600_000_000_000
T0 = 1_735_689_600_000_000_000  # 2025-01-01T00:00:00Z
SPAN_DAYS = 7
SECTIONS = [
    ("agent:research/step:plan", "openai", "gpt-4o", "research"),
    ("agent:research/step:plan/tool:search", "openai", "text-embedding-3-small", "research"),
    ("agent:research/step:write", "anthropic", "claude-sonnet-4-5", "research"),
    ("agent:research/step:review", "openai", "gpt-4o-mini", "research"),
    ("agent:support/step:classify", "openai", "gpt-4o-mini", "support"),
    ("agent:support/step:draft", "anthropic", "claude-sonnet-4-5", "support"),
    ("agent:support/step:review/tool:lookup", "pinecone", "", "support"),
    ("agent:support/step:answer", "openai", "gpt-4o", "support"),
    ("agent:billing/step:extract", "openai", "gpt-4o-mini", "billing"),
    ("agent:billing/step:check/tool:stripe", "stripe", "", "billing"),
    ("agent:billing/step:summarize", "anthropic", "claude-haiku-4-5", "billing"),
    ("agent:billing/step:notify/tool:email", "sendgrid", "", "billing"),
]


def _array(values: list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def fill(client: Any, spans: int, chunk: int = 1_000_000) -> float:
    """Insert `spans` synthetic provider-call spans; returns seconds taken."""
    step = SPAN_DAYS * 24 * HOUR // spans
    sections = _array([s[0] for s in SECTIONS])
    providers = _array([s[1] for s in SECTIONS])
    models = _array([s[2] for s in SECTIONS])
    services = _array([s[3] for s in SECTIONS])
    started = time.perf_counter()
    for offset in range(0, spans, chunk):
        n = min(chunk, spans - offset)
        client.command(
            f"""
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64({T0} + number * {step})) AS Timestamp,
    leftPad(lower(hex(intDiv(number, 8) + 1)), 32, '0') AS TraceId,
    leftPad(lower(hex(number + 1)), 16, '0') AS SpanId,
    '' AS ParentSpanId,
    concat('chat ', model) AS SpanName,
    'Client' AS SpanKind,
    service AS ServiceName,
    map('service.name', service, 'telemetry.sdk.language', 'python') AS ResourceAttributes,
    'llmobserve_otel' AS ScopeName,
    '0.1.0' AS ScopeVersion,
    map(
        {literal(sc.PROVIDER)}, provider,
        {literal(sc.OPERATION)}, 'chat',
        {literal(sc.GEN_AI_PROVIDER_NAME)}, provider,
        {literal(sc.GEN_AI_OPERATION_NAME)}, 'chat',
        {literal(sc.GEN_AI_REQUEST_MODEL)}, model,
        {literal(sc.GEN_AI_RESPONSE_MODEL)}, model,
        {literal(sc.GEN_AI_RESPONSE_ID)}, concat('resp_', toString(number)),
        {literal(sc.GEN_AI_USAGE_INPUT_TOKENS)}, toString(800 + number % 700),
        {literal(sc.GEN_AI_USAGE_OUTPUT_TOKENS)}, toString(150 + number % 300),
        {literal(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)}, toString(if(number % 3 = 0, 256, 0)),
        {literal(sc.COST_USD)}, toString((800 + number % 700) * 0.0000025 + 0.0015),
        {literal(sc.COST_SOURCE)}, 'sdk',
        {literal(sc.COST_STATUS)}, 'priced',
        {literal(sc.CUSTOMER_ID)}, concat('customer-', leftPad(toString(cityHash64(intDiv(number, 8)) % 50), 3, '0')),
        {literal(sc.SECTION_PATH)}, section,
        'http.request.method', 'POST',
        'http.response.status_code', '200',
        'server.address', 'api.example.com',
        'url.full', 'https://api.example.com/v1/chat/completions'
    ) AS SpanAttributes,
    1234000000 AS Duration,
    'Unset' AS StatusCode
FROM (
    SELECT number,
        arrayElement({sections}, s) AS section,
        arrayElement({providers}, s) AS provider,
        arrayElement({models}, s) AS model,
        arrayElement({services}, s) AS service
    FROM (SELECT number + {offset} AS number, (number + {offset}) % {len(SECTIONS)} + 1 AS s FROM numbers({n}))
)
"""
        )
    client.command("OPTIMIZE TABLE llmobserve_costs_hourly FINAL")  # what background merges converge to
    refresh_views(client)  # the run-hours states, which refresh every 10 s on their own
    return time.perf_counter() - started


def timed(run: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    result = run()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="llmobserve-queries-")
    client = open_store(f"chdb://{root}/store")
    try:
        seconds = fill(client, args.spans)
        counts = {
            table: client.query(f"SELECT count() FROM {table}").result_rows[0][0]
            for table in ("otel_traces", "llmobserve_costs", "llmobserve_costs_hourly")
        }
        print(f"filled {args.spans:,} spans in {seconds:.1f} s; rows: {counts}")
        window = {"since_ns": T0 + 2 * 24 * HOUR + HOUR // 3, "until_ns": T0 + 5 * 24 * HOUR + HOUR // 2}
        trace = client.query("SELECT trace_id FROM llmobserve_costs LIMIT 1").result_rows[0][0]
        cases: list[tuple[str, ReportQuery]] = [
            *(
                (f"--by {by}", ReportQuery(by=by))
                for by in ("customer", "provider", "model", "section", "service")
            ),
            ("--by customer --since/--until (edges)", ReportQuery(by="customer", **window)),
            ("--by model --customer X", ReportQuery(by="model", customer="customer-007")),
            ("--tree (all)", ReportQuery(by="section")),
            ("--tree --trace ID", ReportQuery(by="section", trace_id=trace)),
            ("--by trace --limit 20", ReportQuery(by="trace", limit=20)),
            ("--by trace --since/--until (3 days) --limit 20", ReportQuery(by="trace", limit=20, **window)),
        ]
        print(f"\n| query ({args.spans:,} spans) | median ms | rows |")
        print("|---|---:|---:|")
        for label, query in cases:
            ms, rows = timed(lambda q=query: report_rows(client, q))
            print(f"| `{label}` | {ms:.0f} | {len(rows)} |")
    finally:
        client.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
