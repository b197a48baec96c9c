"""Voyage AI through the real `voyageai` SDK (sync client: requests -> urllib3) against a local server.

Shapes: https://docs.voyageai.com/reference/embeddings-api, /reranker-api, /multimodal-embeddings-api
(`usage.total_tokens`; multimodal `text_tokens`, `image_pixels`). Prices
(https://docs.voyageai.com/docs/pricing), per 1M tokens: voyage-3 $0.06, rerank-2.5 $0.05,
voyage-multimodal-3 $0.12 per 1M text tokens + $0.60 per 1B pixels.
"""

from __future__ import annotations

import json

import pytest
import voyageai
from wire import On, Reply, WireServer, map_host

M = 1_000_000


def _embeddings(req) -> Reply:
    body = req.json()
    if body["model"] == "broken":
        return Reply(200, b'{"object": "list", "data": [', {"content-type": "application/json"})
    data = [
        {"object": "embedding", "embedding": [0.1, 0.2, 0.3], "index": i} for i in range(len(body["input"]))
    ]
    return Reply.json(
        {"object": "list", "data": data, "model": body["model"], "usage": {"total_tokens": 1200}}
    )


def _rerank(req) -> Reply:
    body = req.json()
    data = [{"relevance_score": 0.9 - i / 10, "index": i} for i in range(len(body["documents"]))]
    return Reply.json(
        {"object": "list", "data": data, "model": body["model"], "usage": {"total_tokens": 2500}}
    )


def _multimodal(req) -> Reply:
    body = req.json()
    return Reply.json(
        {
            "object": "list",
            "data": [{"object": "embedding", "embedding": [0.5, 0.5], "index": 0}],
            "model": body["model"],
            "usage": {"text_tokens": 300, "image_pixels": 1_000_000, "video_pixels": 0, "total_tokens": 1600},
        }
    )


@pytest.fixture(scope="module")
def server():
    routes = [
        On("POST", r"/v1/embeddings", _embeddings),
        On("POST", r"/v1/rerank", _rerank),
        On("POST", r"/v1/multimodalembeddings", _multimodal),
    ]
    with WireServer(routes) as server:
        map_host(server, "voyage")
        yield server


@pytest.fixture
def client(server):
    return voyageai.Client(api_key="pa-test-secret", base_url=server.url + "/v1", max_retries=0)


@pytest.mark.provider("voyage")
def test_embed(client, server, spans):
    result = client.embed(["hello", "world"], model="voyage-3", input_type="document")
    assert result.embeddings == [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]
    assert result.total_tokens == 1200
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "voyage"
    assert attrs["gen_ai.operation.name"] == "embeddings"
    assert attrs["gen_ai.request.model"] == "voyage-3"
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    # 1200 tokens * $0.06 / 1M = $0.000072
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1200 * 0.06 / M, abs=1e-15)
    assert [s.name for s in spans.all()] == ["embeddings voyage-3"]  # no stock requests span beside it
    sent = server.requests[-1].headers
    assert "traceparent" not in sent and "baggage" not in sent
    assert "pa-test-secret" not in json.dumps(dict(spans.provider_calls()[0].attributes))


@pytest.mark.provider("voyage")
def test_rerank(client, spans):
    result = client.rerank("query", ["doc a", "doc b", "doc c"], model="rerank-2.5")
    assert result.total_tokens == 2500
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "rerank"
    # 2500 tokens * $0.05 / 1M = $0.000125
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2500 * 0.05 / M, abs=1e-15)


@pytest.mark.provider("voyage")
def test_multimodal_embed_tokens_and_pixels(client, spans):
    result = client.multimodal_embed([["a caption"]], model="voyage-multimodal-3")
    assert result.total_tokens == 1600
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 300
    assert attrs["llmobserve.usage.pixels"] == 1_000_000
    # 300 text tokens * $0.12/1M + 1M pixels * $0.60/1B = $0.000036 + $0.0006
    assert attrs["llmobserve.cost.usd"] == pytest.approx(
        300 * 0.12 / M + 1_000_000 * 0.60 / 1_000_000_000, abs=1e-15
    )


@pytest.mark.provider("voyage")
def test_malformed_answer(client, spans):
    with pytest.raises(Exception) as raised:
        client.embed(["x"], model="broken")
    assert "llmobserve" not in type(raised.value).__module__  # the SDK's own error, as without us
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs
