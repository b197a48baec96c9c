"""AWS Bedrock Runtime through real boto3 clients (botocore -> urllib3) against a local server.

Response shapes: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html,
API_runtime_ConverseStream.html (event stream: messageStart, contentBlockDelta, messageStop,
metadata{usage}), API_runtime_InvokeModel.html (Anthropic Messages body; token-count headers).
Prices per million tokens from genai-prices (provider `aws`), which match
https://aws.amazon.com/bedrock/pricing/ (on-demand, US East):
  anthropic.claude-3-haiku-20240307-v1:0  $0.25 input, $1.25 output
  amazon.nova-lite-v1:0                   $0.06 input, $0.015 cache read, $0.24 output
  meta.llama3-1-8b-instruct-v1:0          $0.22 input, $0.22 output
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.config import Config
from opentelemetry.instrumentation.utils import suppress_instrumentation
from wire import On, Reply, WireServer, map_host

from llmobserve_otel.providers._eventstream import encode_message, event

M = 1_000_000
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-lite-v1:0"
LLAMA = "meta.llama3-1-8b-instruct-v1:0"

CONVERSE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1500, "outputTokens": 400, "totalTokens": 1900},
    "metrics": {"latencyMs": 321},
}
CONVERSE_CACHED = {
    **CONVERSE,
    "usage": {
        "inputTokens": 1000,
        "outputTokens": 500,
        "totalTokens": 3500,
        "cacheReadInputTokens": 2000,
        "cacheWriteInputTokens": 0,
    },
}
STREAM = [
    event("messageStart", b'{"role":"assistant"}'),
    event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"Hel"}}'),
    event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"lo"}}'),
    event("contentBlockStop", b'{"contentBlockIndex":0}'),
    event("messageStop", b'{"stopReason":"end_turn"}'),
    event(
        "metadata",
        b'{"usage":{"inputTokens":800,"outputTokens":120,"totalTokens":920},"metrics":{"latencyMs":200}}',
    ),
]
ANTHROPIC_BODY = {
    "id": "msg_bdrk_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-3-haiku-20240307",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 2000, "output_tokens": 600},
}
TOKEN_HEADERS = {"x-amzn-bedrock-input-token-count": "2000", "x-amzn-bedrock-output-token-count": "600"}


def _invoke(req) -> Reply:
    model = req.match["model"]
    if model.startswith("meta."):  # Llama body has its own counts; headers say the same
        body = {
            "generation": "Hi",
            "prompt_token_count": 300,
            "generation_token_count": 100,
            "stop_reason": "stop",
        }
        return Reply.json(
            body,
            headers={"x-amzn-bedrock-input-token-count": "300", "x-amzn-bedrock-output-token-count": "100"},
        )
    if model.startswith("cohere."):  # no counts in this body: the headers are the only signal
        return Reply.json(
            {"generations": [{"text": "Hi"}]},
            headers={"x-amzn-bedrock-input-token-count": "50", "x-amzn-bedrock-output-token-count": "10"},
        )
    return Reply.json(ANTHROPIC_BODY, headers=TOKEN_HEADERS)


def _converse(req) -> Reply:
    if req.match["model"].startswith("bad"):
        return Reply(200, b'{"output": {"message"', {"content-type": "application/json"})
    if req.match["model"].startswith("throttled"):
        return Reply.json({"message": "Too many requests"}, 429, {"x-amzn-errortype": "ThrottlingException"})
    return Reply.json(CONVERSE_CACHED if "nova" in req.match["model"] else CONVERSE)


def _invoke_stream(req) -> Reply:
    chunks = [
        {"type": "message_start", "message": {"id": "m1", "usage": {"input_tokens": 70, "output_tokens": 1}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 70,
                "outputTokenCount": 25,
                "invocationLatency": 100,
                "firstByteLatency": 50,
            },
        },
    ]
    frames = [
        event("chunk", json.dumps({"bytes": base64.b64encode(json.dumps(c).encode()).decode()}).encode())
        for c in chunks
    ]
    return Reply(200, b"", {"content-type": "application/vnd.amazon.eventstream"}, iter(frames))


ROUTES = [
    On("POST", r"/model/(?P<model>[^/]+)/converse", _converse),
    On(
        "POST",
        r"/model/(?P<model>[^/]+)/converse-stream",
        lambda req: Reply(200, b"", {"content-type": "application/vnd.amazon.eventstream"}, iter(STREAM)),
    ),
    On("POST", r"/model/(?P<model>[^/]+)/invoke", _invoke),
    On("POST", r"/model/(?P<model>[^/]+)/invoke-with-response-stream", _invoke_stream),
]


@pytest.fixture(scope="module")
def server():
    with WireServer(ROUTES) as server:
        map_host(server, "bedrock")
        yield server


@pytest.fixture
def client(server):
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1}),
    )


MESSAGES = [{"role": "user", "content": [{"text": "Hello"}]}]


@pytest.mark.provider("bedrock")
def test_converse(client, server, spans):
    result = client.converse(modelId=HAIKU, messages=MESSAGES)
    assert result["usage"]["inputTokens"] == 1500
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "bedrock"
    assert attrs["gen_ai.request.model"] == HAIKU
    assert attrs["gen_ai.usage.input_tokens"] == 1500
    assert attrs["gen_ai.usage.output_tokens"] == 400
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    # 1500 * $0.25/M + 400 * $1.25/M = $0.000875
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1500 * 0.25 + 400 * 1.25) / M, abs=1e-12)
    assert [s.name for s in spans.all()] == [f"chat {HAIKU}"]
    sent = server.requests[-1]
    assert sent.path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    assert "traceparent" not in sent.headers and "baggage" not in sent.headers
    span_text = json.dumps(dict(spans.provider_calls()[0].attributes))
    assert "test-secret" not in span_text and "Credential=test" not in span_text


@pytest.mark.provider("bedrock")
def test_converse_with_prompt_cache(client, spans):
    client.converse(modelId=NOVA, messages=MESSAGES)
    attrs = spans.one_call()
    # inputTokens excludes cache reads: 1000 + 2000 cached = 3000 input tokens in semconv terms
    assert attrs["gen_ai.usage.input_tokens"] == 3000
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 2000
    # 1000 * $0.06/M + 2000 * $0.015/M + 500 * $0.24/M = $0.00021
    assert attrs["llmobserve.cost.usd"] == pytest.approx(
        (1000 * 0.06 + 2000 * 0.015 + 500 * 0.24) / M, abs=1e-12
    )


@pytest.mark.provider("bedrock")
def test_converse_stream(client, spans):
    response = client.converse_stream(modelId=HAIKU, messages=MESSAGES)
    events = list(response["stream"])
    assert (
        "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
        == "Hello"
    )
    assert events[-1]["metadata"]["usage"] == {"inputTokens": 800, "outputTokens": 120, "totalTokens": 920}
    attrs = spans.one_call()
    assert attrs["gen_ai.request.stream"] is True
    assert attrs["gen_ai.usage.input_tokens"] == 800
    assert attrs["gen_ai.usage.output_tokens"] == 120
    assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
    # 800 * $0.25/M + 120 * $1.25/M = $0.00035
    assert attrs["llmobserve.cost.usd"] == pytest.approx((800 * 0.25 + 120 * 1.25) / M, abs=1e-12)
    assert "llmobserve.usage.incomplete" not in attrs


@pytest.mark.provider("bedrock")
def test_invoke_model_anthropic_body(client, spans):
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    response = client.invoke_model(modelId=HAIKU, body=json.dumps(body))
    assert json.loads(response["body"].read()) == ANTHROPIC_BODY
    attrs = spans.one_call()
    assert attrs["gen_ai.usage.input_tokens"] == 2000
    assert attrs["gen_ai.usage.output_tokens"] == 600
    assert attrs["gen_ai.response.id"] == "msg_bdrk_01"
    # 2000 * $0.25/M + 600 * $1.25/M = $0.00125
    assert attrs["llmobserve.cost.usd"] == pytest.approx((2000 * 0.25 + 600 * 1.25) / M, abs=1e-12)


@pytest.mark.provider("bedrock")
def test_invoke_model_llama_body(client, spans):
    client.invoke_model(modelId=LLAMA, body=json.dumps({"prompt": "Hi", "max_gen_len": 64}))["body"].read()
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (300, 100)
    # (300 + 100) * $0.22/M = $0.000088
    assert attrs["llmobserve.cost.usd"] == pytest.approx((300 * 0.22 + 100 * 0.22) / M, abs=1e-12)


@pytest.mark.provider("bedrock")
def test_invoke_model_counts_from_headers_only(client, spans):
    client.invoke_model(modelId="cohere.command-r-v1:0", body=json.dumps({"message": "Hi"}))["body"].read()
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (50, 10)
    assert "llmobserve.usage.status" not in attrs


@pytest.mark.provider("bedrock")
def test_invoke_model_with_response_stream(client, spans):
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    response = client.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(body))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 25
    attrs = spans.one_call()
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (70, 25)
    # 70 * $0.25/M + 25 * $1.25/M
    assert attrs["llmobserve.cost.usd"] == pytest.approx((70 * 0.25 + 25 * 1.25) / M, abs=1e-12)


@pytest.mark.provider("bedrock")
def test_inference_profile_arn_names_the_model(client, server, spans):
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
    client.converse(modelId=arn, messages=MESSAGES)
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "us.anthropic.claude-3-haiku-20240307-v1:0"
    assert attrs["llmobserve.cost.usd"] == pytest.approx((1500 * 0.25 + 400 * 1.25) / M, abs=1e-12)


@pytest.mark.provider("bedrock")
def test_malformed_body_does_not_break_the_call(client, spans):
    with suppress_instrumentation():
        expected = client.converse(modelId="bad.model-v1:0", messages=MESSAGES)
    assert spans.all() == []
    got = client.converse(modelId="bad.model-v1:0", messages=MESSAGES)
    for answer in (expected, got):  # request ids and dates differ per call
        answer["ResponseMetadata"].pop("HTTPHeaders")
        answer["ResponseMetadata"].pop("RequestId", None)
    assert got == expected  # botocore's answer to the bad body, exactly as without us
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("bedrock")
def test_throttled_call_is_marked_and_unbilled(client, spans):
    with pytest.raises(client.exceptions.ThrottlingException):
        client.converse(modelId="throttled.model-v1:0", messages=MESSAGES)
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["http.response.status_code"] == 429
    assert "llmobserve.cost.usd" not in span.attributes


def test_eventstream_frames_are_botocore_compatible():
    frame = encode_message({":message-type": "event", ":event-type": "metadata"}, b"{}")
    assert frame[:4] == len(frame).to_bytes(4, "big")
