"""Two insert threads into one embedded store: batches land side by side, each span exactly once."""

from __future__ import annotations

import threading
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from span_factory import SDK_CALL, make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.collector import Collector, CollectorConfig, ServerThread

REQUESTS, SPANS = 24, 100


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url + "/v1/traces", data=body, method="POST", headers={"Content-Type": "application/x-protobuf"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_two_insert_threads_store_every_span_once(tmp_path: Path) -> None:
    config = CollectorConfig(
        clickhouse_url=f"chdb://{tmp_path / 'store'}", batch_size=SPANS, flush_interval=0.02, insert_threads=2
    )
    collector = Collector(config)
    # The first two inserts wait for each other (a barrier that breaks after 10 s if only one
    # thread inserts): each thread writes its batch through its own store handle, side by side.
    both = threading.Barrier(2, timeout=10)
    overlapped: list[bool] = []
    insert = collector._insert

    def insert_side_by_side(batch: Any) -> None:
        if len(overlapped) < 2:
            try:
                both.wait()
                overlapped.append(True)
            except threading.BrokenBarrierError:
                overlapped.append(False)
        insert(batch)

    collector._insert = insert_side_by_side  # type: ignore[method-assign]
    collector.open()
    server = ServerThread(collector).start()
    try:
        for r in range(REQUESTS):
            spans = [
                make_span(n, {**SDK_CALL, sc.CUSTOMER_ID: f"customer-{r % 3}"}, trace=r + 1)
                for n in range(1, SPANS + 1)
            ]
            assert post(server.url, make_request(*spans).SerializeToString()) == 200
        deadline = time.monotonic() + 30
        while collector.writer is not None and collector.writer.pending:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        client = collector.client
        total = REQUESTS * SPANS
        assert overlapped == [True, True]
        stored = client.query("SELECT count(), uniqExact(TraceId, SpanId) FROM otel_traces").result_rows
        assert stored == [(total, total)]
        by_customer = client.query(
            "SELECT customer, count(), sum(cost_usd) FROM llmobserve_costs FINAL GROUP BY customer ORDER BY customer"
        ).result_rows
        # 24 requests of 100 spans, round robin over 3 customers: 800 calls each, priced by the SDK at
        # $0.0075 (gpt-4o, 1000 input and 500 output tokens: 1000 * $2.5 + 500 * $10 per million).
        assert [(c, n, Decimal(s)) for c, n, s in by_customer] == [
            (f"customer-{i}", 800, Decimal("6.000000000000")) for i in range(3)
        ]
        hourly = client.query("SELECT sum(calls), sum(cost_usd) FROM llmobserve_costs_hourly").result_rows
        assert [(n, Decimal(s)) for n, s in hourly] == [(total, Decimal("18.000000000000"))]
    finally:
        server.stop()
        collector.close()


def test_inconsistent_batching_is_refused_before_the_store_is_opened(tmp_path: Path) -> None:
    collector = Collector(CollectorConfig(clickhouse_url=f"chdb://{tmp_path / 'store'}", insert_threads=0))
    with pytest.raises(ValueError, match="insert threads >= 1"):
        collector.open()
    assert not (tmp_path / "store").exists()  # no store created, no handle left open
