"""Mistral chat (JSON and SSE stream) and embeddings through the real `mistralai` SDK against a
local server answering the documented shapes (https://docs.mistral.ai/api/).

Prices from genai-prices (provider `mistral`), per million tokens:
  mistral-small-latest: $0.15 input, $0.60 output
  mistral-large-latest (-> mistral-large): $2.00 input, $6.00 output
  mistral-embed: $0.10 input
OCR from our data (https://mistral.ai/pricing, the figures genai-prices carries):
  mistral-ocr-latest (OCR 4.x since 2026-06-23): $4 per 1,000 pages
"""

from __future__ import annotations

import pytest
from llm_bodies import chat_body, chat_chunks
from mistralai.client import Mistral
from wire import On, Reply, WireServer, map_host

M = 1_000_000


def _client(server: WireServer) -> Mistral:
    map_host(server, "mistral")
    return Mistral(api_key="mistral-test-secret", server_url=server.url)


@pytest.mark.provider("mistral")
def test_chat_complete(spans):
    body = chat_body("mistral-small-latest", 1200, 300)
    with WireServer([On("POST", "/v1/chat/completions", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.chat.complete(
            model="mistral-small-latest", messages=[{"role": "user", "content": "Capital?"}]
        )
    assert result.choices[0].message.content == "Paris."
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "mistral"
    assert attrs["gen_ai.response.model"] == "mistral-small-latest"
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (1200, 300)
    # 1200 input * $0.15 + 300 output * $0.60, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1200 * 0.15 + 300 * 0.60) / M, abs=1e-12)
    assert "mistral-test-secret" not in repr(attrs)


@pytest.mark.provider("mistral")
def test_chat_stream_usage_in_last_chunk(spans):
    usage = {"prompt_tokens": 2000, "completion_tokens": 500, "total_tokens": 2500}
    events = [*chat_chunks("mistral-large-latest", usage), (None, "[DONE]")]
    with WireServer([On("POST", "/v1/chat/completions", lambda r: Reply.sse(events))]) as server:
        client = _client(server)
        stream = client.chat.stream(
            model="mistral-large-latest", messages=[{"role": "user", "content": "Capital?"}]
        )
        text = "".join(event.data.choices[0].delta.content or "" for event in stream)
    assert text == "Paris."
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (2000, 500)
    # 2000 input * $2.00 + 500 output * $6.00, per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2000 * 2.00 + 500 * 6.00) / M, abs=1e-12)


@pytest.mark.provider("mistral")
def test_embeddings(spans):
    body = {
        "id": "emb-1",
        "object": "list",
        "model": "mistral-embed",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "usage": {"prompt_tokens": 4000, "completion_tokens": 0, "total_tokens": 4000},
    }
    with WireServer([On("POST", "/v1/embeddings", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        client.embeddings.create(model="mistral-embed", inputs=["some text"])
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "embeddings"
    assert attrs["gen_ai.usage.input_tokens"] == 4000
    # 4000 input * $0.10 per million
    assert attrs["llmobserve.cost.usd"] == pytest.approx(4000 * 0.10 / M, abs=1e-12)


@pytest.mark.provider("mistral")
def test_ocr_priced_per_page(spans):
    body = {
        "pages": [
            {
                "index": i,
                "markdown": f"# Page {i}",
                "images": [],
                "dimensions": {"dpi": 200, "height": 2200, "width": 1700},
            }
            for i in range(3)
        ],
        "model": "mistral-ocr-latest",
        "usage_info": {"pages_processed": 3, "doc_size_bytes": 48213},
    }
    with WireServer([On("POST", "/v1/ocr", lambda r: Reply.json(body))]) as server:
        client = _client(server)
        result = client.ocr.process(
            model="mistral-ocr-latest",
            document={"type": "document_url", "document_url": "https://example.org/contract.pdf"},
        )
    assert len(result.pages) == 3
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "ocr"
    assert attrs["llmobserve.usage.pages"] == 3
    # mistral-ocr-latest is OCR 4.x since 2026-06-23: 3 pages * $4 / 1,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * 4 / 1000, abs=1e-12)
