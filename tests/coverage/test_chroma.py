"""Chroma through the real `chromadb-client` (HttpClient, httpx) against a local HTTP API v2 server.

Answers follow Chroma's OpenAPI (collection model, `QueryResponse` with column-oriented lists).
Price (https://docs.trychroma.com/cloud/pricing, read 2026-11-26): writes USD 2.50 per logical GiB
written; reads USD 0.09 per GiB returned. How the units are measured: `providers/chroma.py`.
"""

from __future__ import annotations

import json

import chromadb
import pytest
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

GIB = 1024**3
COLLECTION_ID = "5b6a6cd4-2b73-4f0e-9b6d-2d8f1a0c8e11"
COLLECTION = {
    "id": COLLECTION_ID,
    "name": "docs",
    "configuration_json": {},
    "metadata": None,
    "dimension": 3,
    "tenant": "default_tenant",
    "database": "default_database",
    "version": 0,
    "log_position": 0,
}
QUERY_REPLY = {
    "ids": [["doc-1", "doc-2"]],
    "distances": [[0.12, 0.34]],
    "documents": [["first document", "second one"]],
    "metadatas": [[{"source": "a"}, {"source": "b"}]],
    "embeddings": None,
    "uris": None,
    "include": ["distances", "documents", "metadatas"],
}
QUERY_BODY = json.dumps(QUERY_REPLY).encode()
BASE = r"/api/v2/tenants/default_tenant/databases/default_database"


@pytest.fixture
def server():
    with WireServer(
        [
            On(
                "GET",
                r"/api/v2/auth/identity",
                lambda r: Reply.json(
                    {"user_id": "", "tenant": "default_tenant", "databases": ["default_database"]}
                ),
            ),
            On("GET", r"/api/v2/heartbeat", lambda r: Reply.json({"nanosecond heartbeat": 1})),
            On("GET", r"/api/v2/pre-flight-checks", lambda r: Reply.json({"max_batch_size": 1000})),
            On("GET", r"/api/v2/tenants/default_tenant", lambda r: Reply.json({"name": "default_tenant"})),
            On(
                "GET",
                BASE,
                lambda r: Reply.json(
                    {"id": COLLECTION_ID, "name": "default_database", "tenant": "default_tenant"}
                ),
            ),
            On("POST", BASE + r"/collections", lambda r: Reply.json(COLLECTION)),
            On("POST", BASE + rf"/collections/{COLLECTION_ID}/add", lambda r: Reply.json({}, 201)),
            On(
                "POST",
                BASE + rf"/collections/{COLLECTION_ID}/query",
                lambda r: Reply(200, QUERY_BODY, {"content-type": "application/json"}),
            ),
            On(
                "POST",
                BASE + rf"/collections/{COLLECTION_ID}/upsert",
                lambda r: Reply.json({"error": "Quota", "message": "write quota exceeded"}, 429),
            ),
        ]
    ) as running:
        map_host(running, "chroma")
        yield running


def _client(server: WireServer):
    return chromadb.HttpClient(host="127.0.0.1", port=server.port)


@pytest.mark.provider("chroma")
def test_add_priced_per_logical_gib_written(server, spans):
    collection = _client(server).get_or_create_collection("docs")
    spans_before = len(spans.provider_calls())
    with lo.customer("acme"):
        collection.add(
            ids=["doc-1", "doc-2"],
            embeddings=[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]],
            documents=["first document", "second one"],
            metadatas=[{"source": "a"}, {"source": "b"}],
        )
    assert spans_before == 0  # creating the collection is not billed
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "chroma"
    assert attrs["llmobserve.operation"] == "insert"
    assert attrs["llmobserve.customer.id"] == "acme"
    # ids 5+5, embeddings 2 x 3 float32 = 24, documents 14+10, metadatas {"source":"a"} 14 x 2
    logical = (5 + 5) + 2 * 3 * 4 + (14 + 10) + 2 * len('{"source":"a"}')
    assert logical == 86
    assert attrs["llmobserve.usage.bytes_written"] == logical
    # USD 2.50 per GiB written
    assert attrs["llmobserve.cost.usd"] == pytest.approx(86 * 2.50 / GIB, rel=1e-12)


@pytest.mark.provider("chroma")
def test_query_priced_per_gib_returned(server, spans):
    collection = _client(server).get_or_create_collection("docs")
    result = collection.query(query_embeddings=[[0.1, 0.2, 0.3]], n_results=2)
    assert result["ids"] == [["doc-1", "doc-2"]]
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.usage.bytes_returned"] == len(QUERY_BODY)
    # USD 0.09 per GiB returned
    assert attrs["llmobserve.cost.usd"] == pytest.approx(len(QUERY_BODY) * 0.09 / GIB, rel=1e-12)


@pytest.mark.provider("chroma")
def test_refused_write_not_billed(server, spans):
    collection = _client(server).get_or_create_collection("docs")
    with pytest.raises(Exception, match="quota"):
        collection.upsert(ids=["doc-3"], embeddings=[[0.1, 0.2, 0.3]])
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 429
    assert "llmobserve.usage.bytes_written" not in attrs
    assert "llmobserve.cost.usd" not in attrs
