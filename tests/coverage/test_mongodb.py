"""MongoDB Atlas Vector Search through the real `pymongo` against a WIRE-LEVEL STUB.

A real MongoDB server cannot run here, so `stubs/mongo_stub.py` answers pymongo's own wire
protocol (OP_QUERY handshake, OP_MSG commands, BSON from the `bson` package pymongo ships) with the
documented reply shapes: `aggregate` -> `{"cursor": {"id", "ns", "firstBatch"}, "ok"}`,
`insert` -> `{"n", "ok"}`, errors -> `{"ok": 0, "errmsg", "code", "codeName"}`.

Price: Atlas publishes no per-query Vector Search price (https://www.mongodb.com/pricing), so
billed commands are priced per operation at the documented default of USD 1 per million.
"""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from stubs.mongo_stub import MongoStub
from wire import map_host

import llmobserve_otel as lo

DEFAULT_PER_OPERATION = 1.00 / 1_000_000
HITS = [{"_id": 1, "title": "first", "score": 0.91}, {"_id": 2, "title": "second", "score": 0.87}]


def _answer(command: dict) -> dict | None:
    if "aggregate" in command:
        if command["aggregate"] == "missing_index":
            return {
                "ok": 0.0,
                "errmsg": "PlanExecutor error: index not found",
                "code": 8,
                "codeName": "UnknownError",
            }
        return {
            "cursor": {"id": 0, "ns": f"{command['$db']}.{command['aggregate']}", "firstBatch": HITS},
            "ok": 1.0,
        }
    if "insert" in command:
        return {"n": len(command["documents"]), "ok": 1.0}
    if "find" in command:
        return {"cursor": {"id": 0, "ns": f"{command['$db']}.{command['find']}", "firstBatch": []}, "ok": 1.0}
    return None


@pytest.fixture
def mongo():
    with MongoStub(_answer) as stub:
        map_host(stub.host_port, "mongodb")
        client = MongoClient(
            "127.0.0.1", stub.port, directConnection=True, serverSelectionTimeoutMS=3000, retryWrites=False
        )
        try:
            yield client, stub
        finally:
            client.close()


def _vector_search(collection, index: str = "vector_index") -> list:
    return list(
        collection.aggregate(
            [
                {
                    "$vectorSearch": {
                        "index": index,
                        "path": "embedding",
                        "queryVector": [0.1, 0.2, 0.3],
                        "numCandidates": 100,
                        "limit": 2,
                    }
                },
                {"$project": {"title": 1, "score": {"$meta": "vectorSearchScore"}}},
            ]
        )
    )


@pytest.mark.provider("mongodb")
def test_vector_search_priced_per_operation(mongo, spans):
    client, stub = mongo
    with lo.customer("acme"), lo.section("tool:retrieve"):
        hits = _vector_search(client.shop.docs)
    assert [hit["_id"] for hit in hits] == [1, 2]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "mongodb"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["db.system"] == "mongodb"
    assert attrs["db.operation.name"] == "aggregate"
    assert attrs["db.namespace"] == "shop"
    assert attrs["db.collection.name"] == "docs"
    assert attrs["server.port"] == stub.port
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "tool:retrieve"
    assert attrs["llmobserve.usage.operations"] == 1
    # 1 operation x USD 1 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
    (span,) = spans.provider_calls()
    assert span.start_time < span.end_time


@pytest.mark.provider("mongodb")
def test_insert_billed_plain_reads_not(mongo, spans):
    client, _ = mongo
    client.shop.docs.insert_many(
        [{"title": "a", "embedding": [0.1, 0.2]}, {"title": "b", "embedding": [0.3, 0.4]}]
    )
    assert client.shop.docs.find_one({"title": "a"}) is None  # a plain find is not a billed call
    list(client.shop.docs.aggregate([{"$match": {"title": "a"}}]))  # nor an aggregate without $vectorSearch
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "insert"
    assert attrs["db.operation.name"] == "insert"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("mongodb")
def test_server_error_marks_span(mongo, spans):
    client, _ = mongo
    with pytest.raises(OperationFailure, match="index not found"):
        _vector_search(client.shop.missing_index)
    attrs = spans.one_call()
    assert attrs["error.type"] == "UnknownError"
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


def test_unmapped_server_not_observed(spans):
    with MongoStub(_answer) as stub:  # not mapped to the mongodb provider
        client = MongoClient("127.0.0.1", stub.port, directConnection=True, serverSelectionTimeoutMS=3000)
        try:
            _vector_search(client.shop.docs)
        finally:
            client.close()
    assert spans.provider_calls() == []
