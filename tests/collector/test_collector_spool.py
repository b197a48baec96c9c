"""Spans accepted while the store is down at shutdown are spooled, then stored at the next start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from span_factory import make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.collector import Collector, CollectorConfig
from llmobserve_otel.collector._pipeline import request_rows
from llmobserve_otel.collector._writer import Writer


def test_spans_accepted_while_the_store_fails_at_shutdown_are_spooled_then_stored(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store = tmp_path_factory.mktemp("spool") / "store"
    config = CollectorConfig(clickhouse_url=f"chdb://{store}", flush_interval=0.01, pricing=False)
    collector = Collector(config)
    collector.open()
    collector.writer.stop()  # swap in a writer whose store is down

    def down(rows: Any) -> None:
        raise ConnectionError("store unreachable")

    collector.writer = Writer(down, batch_size=10, flush_interval=0.01, max_queue=100, retry_max_delay=0.02)
    collector.writer.start()
    spans = [make_span(n, {sc.CUSTOMER_ID: "spooled", sc.COST_USD: 0.25}, trace=0x5B001) for n in (1, 2, 3)]
    assert collector.writer.submit(request_rows(make_request(*spans)).rows)
    assert collector.close() is True  # not lost: spooled
    spooled = list((Path(f"{store}.spool")).glob("*.jsonl"))
    assert len(spooled) == 1 and len(spooled[0].read_text().splitlines()) == 3

    again = Collector(config)
    again.open()
    try:
        assert not list(Path(f"{store}.spool").glob("*.jsonl"))
        rows = again.client.query(
            "SELECT count(), sum(cost_usd) FROM llmobserve_costs FINAL WHERE customer = 'spooled'"
        ).result_rows
        assert [(n, float(c)) for n, c in rows] == [(3, 0.75)]
    finally:
        again.close()
