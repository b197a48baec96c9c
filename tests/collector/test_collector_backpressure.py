"""Auth and back-pressure answers, on the app alone (no store): 401, 503 + Retry-After."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from google.rpc import status_pb2
from span_factory import make_request, make_span
from starlette.testclient import TestClient

from llmobserve_otel.collector import Collector, CollectorConfig
from llmobserve_otel.collector._writer import Writer

PROTOBUF = {"Content-Type": "application/x-protobuf"}
BODY = make_request(make_span(1), make_span(2)).SerializeToString()


def message(response: Any) -> str:
    return status_pb2.Status.FromString(response.content).message


def record(stored: list[Any]) -> Any:
    """A writer insert that keeps the rows of either chunk kind (rows, or the fast path's SpanRows)."""
    return lambda batch: stored.extend(batch if isinstance(batch, list) else batch.rows())


def app_with(writer: Writer | None, **config: Any) -> TestClient:
    collector = Collector(CollectorConfig(clickhouse_url="chdb:///nonexistent", pricing=False, **config))
    collector.writer = writer
    return TestClient(collector.app)


def test_token_is_required_when_configured() -> None:
    stored: list[Any] = []
    client = app_with(Writer(record(stored), batch_size=1, max_queue=10), token="s3cret")
    assert client.post("/v1/traces", content=BODY, headers=PROTOBUF).status_code == 401
    wrong = {**PROTOBUF, "Authorization": "Bearer nope"}
    assert client.post("/v1/traces", content=BODY, headers=wrong).status_code == 401
    assert client.get("/api/v1/report").status_code == 401
    right = {**PROTOBUF, "Authorization": "Bearer s3cret"}
    assert client.post("/v1/traces", content=BODY, headers=right).status_code == 200
    assert client.get("/health").status_code == 200  # health stays open for probes


def test_full_queue_answers_503_with_retry_after() -> None:
    stored: list[Any] = []
    collector = Collector(CollectorConfig(clickhouse_url="chdb:///nonexistent", pricing=False))
    collector.writer = Writer(record(stored), batch_size=1, max_queue=3)  # not started: nothing drains
    client = TestClient(collector.app)
    assert client.post("/v1/traces", content=BODY, headers=PROTOBUF).status_code == 200
    more = make_request(make_span(3), make_span(4)).SerializeToString()
    response = client.post("/v1/traces", content=more, headers=PROTOBUF)
    assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    assert message(response) == "collector queue full, retry later"
    assert collector.writer.pending == 2  # the refused request left nothing behind
    # ... and was not remembered as seen: its retry is taken once there is room.
    collector.writer.start()
    assert collector.writer.stop(5)
    collector.writer = Writer(record(stored), batch_size=1, max_queue=3)
    assert client.post("/v1/traces", content=more, headers=PROTOBUF).status_code == 200
    assert collector.writer.pending == 2 and len(stored) == 2


def test_failing_store_answers_503_so_the_exporter_retries() -> None:
    def down(rows: Sequence[Any]) -> None:
        raise ConnectionError("connection refused")

    writer = Writer(down, batch_size=1, flush_interval=0.01, max_queue=10, retry_max_delay=0.05)
    writer.start()
    client = app_with(writer)
    assert client.post("/v1/traces", content=BODY, headers=PROTOBUF).status_code == 200
    import time

    deadline = time.monotonic() + 5
    while writer.failing is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    response = client.post(
        "/v1/traces", content=make_request(make_span(9)).SerializeToString(), headers=PROTOBUF
    )
    assert (response.status_code, response.headers["retry-after"]) == (503, "5")
    assert message(response) == "store unavailable: ConnectionError: connection refused"
    health = client.get("/health")
    assert (health.status_code, health.json()["status"]) == (503, "store_unavailable")


def test_stopped_collector_answers_503() -> None:
    response = app_with(None).post("/v1/traces", content=BODY, headers=PROTOBUF)
    assert (response.status_code, message(response)) == (503, "collector is shutting down")


@pytest.mark.parametrize(
    ("params", "error"), [("by=colour", "cannot group by 'colour'"), ("since_ns=x", "invalid")]
)
def test_report_api_rejects_bad_queries(params: str, error: str) -> None:
    response = app_with(None).get("/api/v1/report?" + params)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_pricing_can_be_switched_off() -> None:
    assert Collector(CollectorConfig(pricing=False)).pricer is None
    assert Collector(CollectorConfig(pricing=True)).pricer is not None


def test_a_full_queue_refuses_before_decoding() -> None:
    stored: list[Any] = []
    collector = Collector(CollectorConfig(clickhouse_url="chdb:///nonexistent", pricing=False))
    collector.writer = Writer(record(stored), batch_size=1, max_queue=3)  # not started: nothing drains
    client = TestClient(collector.app)
    assert client.post("/v1/traces", content=BODY, headers=PROTOBUF).status_code == 200  # 2 of 3 taken
    # Garbage of a size that would hold about two spans: refused for room, never decoded (no 400).
    response = client.post("/v1/traces", content=b"\xff" * len(BODY), headers=PROTOBUF)
    assert (response.status_code, message(response)) == (503, "collector queue full, retry later")
    # A request small enough for the room left is still decoded (and here refused as malformed).
    assert client.post("/v1/traces", content=b"\xff" * 10, headers=PROTOBUF).status_code == 400
