"""Pinecone serverless through the real `pinecone` SDK (REST data plane over httpx).

Answers follow the data-plane API reference (https://docs.pinecone.io/reference/api/data-plane):
query -> `{"matches", "namespace", "usage": {"readUnits"}}`, upsert -> `{"upsertedCount"}`.
Price (https://www.pinecone.io/pricing/, Standard plan, AWS us-east-1, read 2026-11-26):
USD 16 per million read units, USD 4 per million write units. An upsert's write units are
estimated from its request as the docs define them: 1 WU per KB, at least 5.
"""

from __future__ import annotations

import json
import math

import pytest
from pinecone import Pinecone
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

M = 1_000_000
READ_UNIT = 16.00 / M
WRITE_UNIT = 4.00 / M

QUERY_REPLY = {
    "results": [],
    "matches": [{"id": "vec-1", "score": 0.91, "values": []}, {"id": "vec-2", "score": 0.87, "values": []}],
    "namespace": "docs",
    "usage": {"readUnits": 6},
}


@pytest.fixture
def server():
    with WireServer(
        [
            On("POST", r"/query", lambda r: Reply.json(QUERY_REPLY)),
            On("POST", r"/vectors/upsert", lambda r: Reply.json({"upsertedCount": len(r.json()["vectors"])})),
            On(
                "GET",
                r"/vectors/fetch",
                lambda r: Reply.json({"vectors": {}, "namespace": "docs", "usage": {"readUnits": -1}}),
            ),
            On(
                "POST",
                r"/vectors/update",
                lambda r: Reply.json(
                    {"code": 3, "message": "Vector dimension 2 does not match 3", "details": []}, 400
                ),
            ),
        ]
    ) as running:
        map_host(running, "pinecone")
        yield running


def _index(server: WireServer):
    return Pinecone(api_key="pc-secret-key").Index(host=server.url)


@pytest.mark.provider("pinecone")
def test_query_read_units(server, spans):
    with lo.customer("acme"), lo.section("tool:retrieve"):
        result = _index(server).query(vector=[0.1, 0.2, 0.3], top_k=2, namespace="docs")
    assert result.usage.read_units == 6
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "pinecone"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.usage.read_units"] == 6
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "tool:retrieve"
    # 6 RU x USD 16 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(6 * READ_UNIT, abs=1e-15)
    sent = server.requests[-1].headers
    assert "baggage" not in sent and "acme" not in json.dumps(sent)
    assert "pc-secret-key" not in json.dumps(attrs)


@pytest.mark.provider("pinecone")
def test_upsert_write_units_from_request_size(server, spans):
    vectors = [{"id": f"vec-{i}", "values": [0.25] * 512, "metadata": {"i": i}} for i in range(4)]
    result = _index(server).upsert(vectors=vectors, namespace="docs")
    assert result.upserted_count == 4
    sent = server.requests[-1].body
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "upsert"
    # 1 WU per KB of request (rounded up), at least 5; the SDK sends compact JSON
    expected_units = max(5, math.ceil(len(sent) / 1024))
    assert expected_units > 5
    assert attrs["llmobserve.usage.write_units"] == expected_units
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected_units * WRITE_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_small_upsert_bills_the_minimum(server, spans):
    _index(server).upsert(vectors=[{"id": "v", "values": [0.1, 0.2, 0.3]}], namespace="docs")
    attrs = spans.one_call()
    # a 1 KB-or-less request is billed the minimum of 5 WU: 5 x USD 4 / 1,000,000
    assert attrs["llmobserve.usage.write_units"] == 5
    assert attrs["llmobserve.cost.usd"] == pytest.approx(5 * WRITE_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_error_response_not_billed(server, spans):
    with pytest.raises(Exception, match="dimension"):
        _index(server).update(id="vec-1", values=[0.1, 0.2], namespace="docs")
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 400
    assert "llmobserve.cost.usd" not in attrs
    (span,) = spans.provider_calls()
    assert span.status.status_code.name == "ERROR"


@pytest.mark.provider("pinecone")
def test_malformed_usage_is_visible_and_harmless(server, spans):
    result = _index(server).fetch(ids=["vec-1"], namespace="docs")
    assert result.usage.read_units == -1  # the app sees exactly what the server sent
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "fetch"
    assert "llmobserve.usage.read_units" not in attrs
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs
