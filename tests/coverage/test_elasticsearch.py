"""Elasticsearch through the real elasticsearch-py client (elastic-transport -> urllib3) against a local
server answering the documented shapes (https://www.elastic.co/docs/api/doc/elasticsearch/: search
`hits`, msearch `responses`, bulk `items`; every answer carries `X-Elastic-Product: Elasticsearch`,
which the client checks).

Price: no per-call price is published (Elastic Cloud bills capacity by the hour / VCU-hour), so the
documented default applies: USD 1.00 per million operations (pricing/data/elasticsearch.toml).
"""

from __future__ import annotations

import json

import pytest
from elasticsearch import Elasticsearch
from wire import On, Reply, WireServer, map_host

M = 1_000_000
ES = {"x-elastic-product": "Elasticsearch"}
CONTENT = "application/vnd.elasticsearch+json;compatible-with=9"
HIT = {"_index": "docs", "_id": "1", "_score": 0.93, "_source": {"title": "cats"}}
SEARCH = {
    "took": 4,
    "timed_out": False,
    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
    "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": 0.93, "hits": [HIT]},
}


def _reply(payload) -> Reply:
    return Reply(200, json.dumps(payload).encode(), {"content-type": CONTENT, **ES})


def _bulk(req) -> Reply:
    lines = [line for line in req.body.splitlines() if line.strip()]
    items = [
        {"index": {"_index": "docs", "_id": str(i), "status": 201, "result": "created"}}
        for i in range(len(lines) // 2)
    ]
    return _reply({"took": 3, "errors": False, "items": items})


ROUTES = [
    On("POST", r"/docs/_search", lambda req: _reply(SEARCH)),
    On("POST", r"/_msearch", lambda req: _reply({"took": 5, "responses": [{**SEARCH, "status": 200}] * 3})),
    On("PUT", r"/_bulk", _bulk),
    On(
        "PUT",
        r"/docs/_doc/(\w+)",
        lambda req: _reply({"_index": "docs", "_id": "7", "result": "created", "_version": 1}),
    ),
    On(
        "GET",
        r"/",
        lambda req: _reply(
            {"name": "node-1", "version": {"number": "9.1.0"}, "tagline": "You Know, for Search"}
        ),
    ),
]


@pytest.fixture(scope="module")
def server():
    with WireServer(ROUTES) as server:
        map_host(server, "elasticsearch")
        yield server


@pytest.fixture
def client(server):
    return Elasticsearch(server.url, api_key="es-test-secret", max_retries=0)


@pytest.mark.provider("elasticsearch")
def test_knn_vector_search(client, server, spans):
    result = client.search(
        index="docs",
        knn={"field": "embedding", "query_vector": [0.1, 0.2, 0.3], "k": 5, "num_candidates": 50},
    )
    assert result["hits"]["hits"][0]["_id"] == "1"
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "elasticsearch"
    assert attrs["llmobserve.operation"] == "search"
    assert attrs["llmobserve.usage.operations"] == 1
    assert attrs["llmobserve.usage.vector_searches"] == 1
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1 * 1.00 / M, abs=1e-15)  # 1 operation * $1/M
    # one priced span; the other is elasticsearch-py's own OpenTelemetry span, its parent
    others = [s for s in spans.all() if s not in spans.provider_calls()]
    assert [_system(s) for s in others] == ["elasticsearch"]
    assert spans.provider_calls()[0].parent.span_id == others[0].context.span_id
    sent = server.requests[-1].headers
    assert "traceparent" not in sent and "baggage" not in sent
    assert "es-test-secret" not in json.dumps(dict(spans.provider_calls()[0].attributes))


@pytest.mark.provider("elasticsearch")
def test_knn_inside_query_and_plain_search(client, spans):
    client.search(
        index="docs",
        query={"bool": {"must": [{"knn": {"field": "embedding", "query_vector": [1.0], "k": 3}}]}},
    )
    client.search(index="docs", query={"match": {"title": "cats"}})
    vector, plain = (dict(s.attributes) for s in spans.provider_calls())
    assert vector["llmobserve.usage.vector_searches"] == 1
    assert "llmobserve.usage.vector_searches" not in plain
    assert plain["llmobserve.usage.operations"] == 1


@pytest.mark.provider("elasticsearch")
def test_msearch_counts_each_search(client, spans):
    body = [{"index": "docs"}, {"knn": {"field": "e", "query_vector": [1.0], "k": 1}}] * 3
    assert len(client.msearch(searches=body)["responses"]) == 3
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.operations"] == 3
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * 1.00 / M, abs=1e-15)  # 3 operations * $1/M


@pytest.mark.provider("elasticsearch")
def test_bulk_and_index_writes(client, spans):
    ops = [
        {"index": {"_index": "docs", "_id": str(i)}} if j == 0 else {"title": f"t{i}"}
        for i in range(4)
        for j in (0, 1)
    ]
    assert len(client.bulk(operations=ops)["items"]) == 4
    client.index(index="docs", id="7", document={"title": "seven", "embedding": [0.1, 0.2]})
    bulk, single = (dict(s.attributes) for s in spans.provider_calls())
    assert (bulk["llmobserve.operation"], bulk["llmobserve.usage.operations"]) == ("write", 4)
    assert bulk["llmobserve.cost.usd"] == pytest.approx(4 * 1.00 / M, abs=1e-15)
    assert (single["llmobserve.operation"], single["llmobserve.usage.operations"]) == ("write", 1)


@pytest.mark.provider("elasticsearch")
def test_cluster_info_is_not_billed(client, spans):
    assert client.info()["tagline"] == "You Know, for Search"
    assert spans.provider_calls() == []
    assert [_system(s) for s in spans.all()] == ["elasticsearch"]  # only the client's own span


def _system(span) -> str | None:
    attrs = span.attributes or {}
    return attrs.get("db.system.name", attrs.get("db.system"))
