"""OTel SDK exporter -> collector (uvicorn, real port) -> chDB -> report, with exact numbers.

Prices by hand from published prices per million tokens: gpt-4o $2.50 input, $1.25 cached input,
$10 output. A call with 1000 input tokens of which 200 cached and 100 output tokens costs
800 * 2.50 + 200 * 1.25 + 100 * 10 = 3250 micro-dollars = $0.00325.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from span_factory import make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.cli import main
from llmobserve_otel.collector import Collector, CollectorConfig, ServerThread

GPT_4O_CALL = {
    sc.PROVIDER: "openai",
    sc.OPERATION: "chat",
    sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
    sc.GEN_AI_USAGE_INPUT_TOKENS: 1000,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 200,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS: 100,
}
LIMIT = 1024 * 1024


class Running:
    def __init__(self, collector: Collector, server: ServerThread) -> None:
        self.collector = collector
        self.server = server
        self.url = server.url

    def count(self, sql: str) -> int:
        return int(self.collector.client.query(sql).result_rows[0][0])

    def settle(self) -> None:
        """Wait until everything accepted is inserted."""
        deadline = time.monotonic() + 10
        while self.collector.writer is not None and self.collector.writer.pending:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def post(
        self,
        body: bytes,
        content_type: str = "application/x-protobuf",
        path: str = "/v1/traces",
        **headers: str,
    ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": content_type, **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    store = tmp_path_factory.mktemp("e2e") / "store"
    collector = Collector(
        CollectorConfig(clickhouse_url=f"chdb://{store}", flush_interval=0.05, max_body_bytes=LIMIT)
    )
    collector.open()
    server = ServerThread(collector).start()
    yield Running(collector, server)
    server.stop()
    collector.close()


def sdk(url: str, service: str = "agent") -> tuple[TracerProvider, OTLPSpanExporter, InMemorySpanExporter]:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=url + "/v1/traces")
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, exporter, memory


def report(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main(["report", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_sdk_spans_are_priced_stored_and_reported(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    provider, _, _ = sdk(running.url)
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("agent:research", attributes={sc.SECTION_PATH: "agent:research"}):
        for _ in range(2):
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    **GPT_4O_CALL,
                    sc.CUSTOMER_ID: "e2e-acme",
                    sc.SECTION_PATH: "agent:research/tool:search",
                },
            ):
                pass
        with tracer.start_as_current_span(
            "query pinecone",
            attributes={
                sc.PROVIDER: "pinecone",
                sc.OPERATION: "query",
                sc.USAGE_PREFIX + "read_units": 5,
                sc.COST_USD: 0.0004,  # priced by the caller: kept as is
                sc.CUSTOMER_ID: "e2e-acme",
                sc.SECTION_PATH: "agent:research",
            },
        ):
            pass
    provider.shutdown()
    running.settle()

    rows = report(capsys, "--by", "provider", "--customer", "e2e-acme", "--collector-url", running.url)
    assert rows == [
        {
            "key": "openai",
            "cost_usd": 0.0065,
            "calls": 2,
            "input_tokens": 2000,
            "output_tokens": 200,
            "cache_read_tokens": 400,
            "cache_creation_tokens": 0,
            "reasoning_tokens": 0,
            "unpriced_calls": 0,
            "units": {},
        },
        {
            "key": "pinecone",
            "cost_usd": 0.0004,
            "calls": 1,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_creation_tokens": 0,
            "reasoning_tokens": 0,
            "unpriced_calls": 0,
            "units": {"read_units": 5.0},
        },
    ]
    stored = running.collector.client.query(
        "SELECT SpanAttributes['llmobserve.cost.usd'], SpanAttributes['llmobserve.cost.source'] FROM otel_traces "
        "WHERE SpanAttributes['llmobserve.customer.id'] = 'e2e-acme' ORDER BY SpanName"
    ).result_rows
    assert stored == [("0.00325", "collector"), ("0.00325", "collector"), ("0.0004", "caller")]
    tree = report(capsys, "--tree", "--customer", "e2e-acme", "--collector-url", running.url)
    assert [(n["name"], n["cost_usd"], n["self_cost_usd"], n["calls"]) for n in tree] == [
        ("agent:research", 0.0069, 0.0004, 3)
    ]
    assert [(n["name"], n["cost_usd"]) for n in tree[0]["children"]] == [("tool:search", 0.0065)]


def test_a_retried_export_is_counted_once(running: Running, capsys: pytest.CaptureFixture[str]) -> None:
    provider, exporter, memory = sdk(running.url)
    with provider.get_tracer("app").start_as_current_span(
        "chat gpt-4o", attributes={**GPT_4O_CALL, sc.CUSTOMER_ID: "e2e-retry"}
    ):
        pass
    spans: list[ReadableSpan] = list(memory.get_finished_spans())
    # The exporter sends the same spans again, as after a lost response.
    assert exporter.export(spans).name == "SUCCESS"
    assert exporter.export(spans).name == "SUCCESS"
    provider.shutdown()
    running.settle()
    rows = report(capsys, "--by", "customer", "--customer", "e2e-retry", "--collector-url", running.url)
    assert [(r["key"], r["cost_usd"], r["calls"]) for r in rows] == [("e2e-retry", 0.00325, 1)]
    assert (
        running.count(
            "SELECT count() FROM otel_traces WHERE SpanAttributes['llmobserve.customer.id'] = 'e2e-retry'"
        )
        == 1
    )


def test_partial_success_for_bad_ids(running: Running) -> None:
    good = make_span(1, {"n": 1}, trace=0xBAD1D5)
    bad = make_span(2, trace=0xBAD1D5)
    bad.span_id = bytes(8)
    status, body, headers = running.post(make_request(good, bad).SerializeToString())
    assert (status, headers["content-type"]) == (200, "application/x-protobuf")
    response = ExportTraceServiceResponse.FromString(body)
    assert response.partial_success.rejected_spans == 1
    assert response.partial_success.error_message == "span 1 ('call'): invalid span id '0000000000000000'"
    running.settle()
    assert running.count("SELECT count() FROM otel_traces WHERE TraceId LIKE '%bad1d5'") == 1


def test_otlp_json_gzip_is_accepted(running: Running) -> None:
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "0000000000000000000000000000a50e",
                                "spanId": "0000000000000001",
                                "name": "json span",
                                "kind": 3,
                                "startTimeUnixNano": "1735725600000000000",
                                "endTimeUnixNano": "1735725600500000000",
                                "attributes": [{"key": "k", "value": {"intValue": "7"}}],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    body = gzip.compress(json.dumps(document).encode())
    status, answer, headers = running.post(body, "application/json", **{"Content-Encoding": "gzip"})
    assert (status, json.loads(answer), headers["content-type"]) == (200, {}, "application/json")
    running.settle()
    row = running.collector.client.query(
        "SELECT ServiceName, SpanAttributes, Duration FROM otel_traces WHERE TraceId = '0000000000000000000000000000a50e'"
    ).result_rows
    assert row == [("json-svc", {"k": "7"}, 500_000_000)]


BAD_INPUTS = [
    pytest.param(
        b"\xff\xff\xff\xff", "application/x-protobuf", {}, 400, "malformed protobuf", id="bad-protobuf"
    ),
    pytest.param(b'{"resourceSpans": [', "application/json", {}, 400, "malformed JSON", id="bad-json"),
    pytest.param(b"{}", "text/plain", {}, 415, "unsupported content type", id="content-type"),
    pytest.param(b"x" * (LIMIT + 1), "application/x-protobuf", {}, 413, "over 1048576 bytes", id="oversized"),
    pytest.param(
        gzip.compress(b"\0" * (20 * LIMIT)),
        "application/x-protobuf",
        {"Content-Encoding": "gzip"},
        413,
        "decompressed request body over",
        id="gzip-bomb",
    ),
    pytest.param(
        b"\x1f\x8b garbage",
        "application/json",
        {"Content-Encoding": "gzip"},
        400,
        "invalid gzip",
        id="bad-gzip",
    ),
    pytest.param(
        make_request(
            make_span(1, {sc.COST_USD: 0.1}, trace=0xFEED),
            make_span(2, {sc.COST_USD: "0.1"}, trace=0xFEED),
        ).SerializeToString(),
        "application/x-protobuf",
        {},
        400,
        "attribute 'llmobserve.cost.usd' must be a non-negative number, got str '0.1'",
        id="attribute-type",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "headers", "status", "message"), BAD_INPUTS)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(
    running: Running, body: bytes, content_type: str, headers: dict[str, str], status: int, message: str
) -> None:
    running.settle()
    before = running.count("SELECT count() FROM otel_traces")
    got, answer, _ = running.post(body, content_type, **headers)
    assert got == status
    if content_type == "application/x-protobuf":
        text = status_pb2.Status.FromString(answer).message
    else:
        text = json.loads(answer)["message"]
    assert message in text
    time.sleep(0.1)  # past a flush interval: anything queued would be inserted by now
    running.settle()
    assert running.count("SELECT count() FROM otel_traces") == before
    with urllib.request.urlopen(running.url + "/health", timeout=5) as health:
        assert json.load(health)["status"] == "ok"  # the collector stays up


@pytest.mark.parametrize("path", ["/v1/metrics", "/v1/logs"])
def test_metrics_and_logs_are_accepted_and_discarded(running: Running, path: str) -> None:
    assert running.post(b"", path=path)[:2] == (200, b"")
    status, body, _ = running.post(b"{}", "application/json", path=path)
    assert (status, json.loads(body)) == (200, {})
    assert running.post(b"{}", "text/plain", path=path)[0] == 415


def test_health(running: Running) -> None:
    with urllib.request.urlopen(running.url + "/health", timeout=5) as response:
        body = json.load(response)
    assert body["status"] == "ok" and body["pending"] >= 0 and body["store"].startswith("chdb:///")


def test_a_restarted_collector_still_drops_retried_spans(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    provider, _, memory = sdk(running.url)
    with provider.get_tracer("app").start_as_current_span(
        "chat gpt-4o", attributes={**GPT_4O_CALL, sc.CUSTOMER_ID: "e2e-restart"}
    ):
        pass
    provider.shutdown()
    running.settle()
    # Same store, new collector process state: the window is primed from the store.
    running.server.stop()
    running.collector.close()
    collector = Collector(running.collector.config)
    collector.open()
    server = ServerThread(collector).start()
    try:
        retry = OTLPSpanExporter(endpoint=server.url + "/v1/traces")
        assert retry.export(list(memory.get_finished_spans())).name == "SUCCESS"
        retry.shutdown()
        rows = report(capsys, "--by", "customer", "--customer", "e2e-restart", "--collector-url", server.url)
        assert [(r["key"], r["calls"]) for r in rows] == [("e2e-restart", 1)]
    finally:
        server.stop()
        collector.close()
        # Leave the module fixture a running collector again.
        running.collector.open()
        running.server = ServerThread(running.collector).start()
        running.url = running.server.url
