"""`--no-pricing`: spans are stored as received (an upstream processor priced them, or nobody)."""

from __future__ import annotations

import time
import urllib.request

import pytest
from span_factory import make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.collector import Collector, CollectorConfig, ServerThread


def test_unpriced_span_stays_unpriced(tmp_path_factory: pytest.TempPathFactory) -> None:
    store = tmp_path_factory.mktemp("nopricing") / "store"
    collector = Collector(
        CollectorConfig(clickhouse_url=f"chdb://{store}", pricing=False, flush_interval=0.01)
    )
    collector.open()
    try:
        with ServerThread(collector) as server:
            call = {
                sc.PROVIDER: "openai",
                sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
                sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
                sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
            }
            request = urllib.request.Request(
                server.url + "/v1/traces",
                data=make_request(make_span(1, call)).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            deadline = time.monotonic() + 10
            while collector.writer is not None and collector.writer.pending:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            rows = collector.client.query(
                "SELECT mapContains(SpanAttributes, 'llmobserve.cost.usd'), cost_status, toFloat64(cost_usd), "
                "input_tokens FROM otel_traces JOIN llmobserve_costs FINAL ON SpanId = span_id"
            ).result_rows
        assert rows == [(False, "", 0.0, 1000)]
    finally:
        collector.close()
