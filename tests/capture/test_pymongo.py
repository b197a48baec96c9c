"""The pymongo capture's mechanics (command monitoring) against the wire-level MongoDB stub.

Provider behaviour (what is billed, prices) is in tests/coverage/test_mongodb.py. Here: the span's
parent is the app's span current when the command started, a parser failure leaves the app alone
and marks the span, suppression and uninstrument stop capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pymongo import MongoClient
from wire import map_host

from llmobserve_otel import capture
from llmobserve_otel.capture.pymongo import CAPTURE
from llmobserve_otel.providers import mongodb

sys.path.insert(0, str(Path(__file__).parents[1] / "coverage"))
from stubs.mongo_stub import MongoStub

PIPELINE = [
    {"$vectorSearch": {"index": "v", "path": "e", "queryVector": [0.1], "numCandidates": 10, "limit": 1}}
]


def _answer(command: dict) -> dict | None:
    if "aggregate" in command:
        return {"cursor": {"id": 0, "ns": "shop.docs", "firstBatch": [{"_id": 1}]}, "ok": 1.0}
    return None


@pytest.fixture
def client():
    with MongoStub(_answer) as stub:
        map_host(stub.host_port, "mongodb")
        mongo = MongoClient("127.0.0.1", stub.port, directConnection=True, serverSelectionTimeoutMS=3000)
        try:
            yield mongo
        finally:
            mongo.close()


def test_span_is_child_of_the_apps_span(client, spans):
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("handler") as parent:
        assert list(client.shop.docs.aggregate(PIPELINE)) == [{"_id": 1}]
    (call,) = spans.provider_calls()
    assert call.parent is not None and call.parent.span_id == parent.get_span_context().span_id
    assert call.context.trace_id == parent.get_span_context().trace_id


def test_parser_failure_is_fail_open(client, spans, monkeypatch):
    monkeypatch.setenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "0")

    def broken(route, command, reply):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(mongodb, "parse_command", broken)
    assert list(client.shop.docs.aggregate(PIPELINE)) == [{"_id": 1}]
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "reply not parsed: RuntimeError"
    assert "llmobserve.cost.usd" not in attrs


def test_suppressed_and_uninstrumented(client, spans):
    with suppress_instrumentation():
        list(client.shop.docs.aggregate(PIPELINE))
    assert spans.provider_calls() == []
    CAPTURE.uninstrument()
    try:
        assert not CAPTURE.instrumented
        list(client.shop.docs.aggregate(PIPELINE))
        assert spans.provider_calls() == []
    finally:
        capture.instrument(["pymongo"])
    list(client.shop.docs.aggregate(PIPELINE))
    assert len(spans.provider_calls()) == 1
