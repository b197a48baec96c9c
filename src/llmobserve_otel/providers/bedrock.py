"""AWS Bedrock Runtime (through botocore): Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream.

Wire format: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html —
the model id is in the path (`/model/{modelId}/converse`, URL-encoded; an inference-profile ARN
names the profile after its last `/`). Converse answers `usage.inputTokens` / `outputTokens` and,
with prompt caching, `cacheReadInputTokens` / `cacheWriteInputTokens`, which `inputTokens` does not
include (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html), so they are
added to the input count as GenAI semconv counts it. ConverseStream answers AWS event-stream
frames (`providers/_eventstream.py`); its `metadata` event carries the same `usage`. InvokeModel
answers the model's own body (Anthropic's `usage`, Llama's `prompt_token_count`, Titan's
`inputTextTokenCount`, ...) and, for every model, the `X-Amzn-Bedrock-Input-Token-Count` /
`-Output-Token-Count` headers (the body wins where it has the numbers). InvokeModelWithResponseStream
`chunk` events carry base64 JSON; the last has `amazon-bedrock-invocationMetrics`.
Prices: genai-prices provider `aws` (our id `bedrock` is mapped to it).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from llmobserve_otel.providers import _aws
from llmobserve_otel.providers._json import as_int, as_str, dig, loads_object
from llmobserve_otel.providers._types import Route, Usage

NAME = "bedrock"
HOSTS = _aws.hosts("bedrock-runtime")
TRANSPORTS = ("https",)
SDK = "boto3"
OPERATIONS = ("chat", "embeddings")  # routes are built per call (the model is in the path)
COVERAGE_NOTE = "Converse, ConverseStream (AWS event stream), InvokeModel (body usage or token-count headers), InvokeModelWithResponseStream"

_PATH = re.compile(
    r"/model/(?P<model>.+?)/(?P<action>converse|converse-stream|invoke|invoke-with-response-stream)/?"
)
_STREAMING = frozenset({"converse-stream", "invoke-with-response-stream"})


@dataclass(frozen=True)
class BedrockRoute(Route):
    """A Route that also knows the Bedrock action (the response shape depends on it)."""

    action: str = "converse"


def _model_id(raw: str) -> str:
    model = unquote(raw)
    return model.rsplit("/", 1)[-1] if model.startswith("arn:") else model


def match(method: str, path: str) -> Route | None:
    found = _PATH.fullmatch(path) if method == "POST" else None
    if found is None:
        return None
    model = _model_id(found["model"])
    operation = "embeddings" if "embed" in model else "chat"
    return BedrockRoute(operation, model=model, action=found["action"])


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"stream": getattr(route, "action", "") in _STREAMING}


def _action(route: Route) -> str:
    return getattr(route, "action", "converse")


def parse_headers(route: Route, headers: Mapping[str, str]) -> Usage | None:
    """InvokeModel's token-count headers (sent for every model family)."""
    tokens_in = as_int(_int_header(headers, "x-amzn-bedrock-input-token-count"))
    tokens_out = as_int(_int_header(headers, "x-amzn-bedrock-output-token-count"))
    if tokens_in is None and tokens_out is None:
        return None
    return Usage(input_tokens=tokens_in, output_tokens=tokens_out)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _converse_usage(usage: Any, into: Usage) -> bool:
    if not isinstance(usage, dict):
        return False
    into.input_tokens = as_int(usage.get("inputTokens"))
    into.output_tokens = as_int(usage.get("outputTokens"))
    into.cache_read_tokens = as_int(usage.get("cacheReadInputTokens"))
    into.cache_write_tokens = as_int(usage.get("cacheWriteInputTokens"))
    if into.input_tokens is not None:
        into.input_tokens += (into.cache_read_tokens or 0) + (into.cache_write_tokens or 0)
    return into.input_tokens is not None or into.output_tokens is not None


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    if _action(route) == "converse":
        usage = Usage()
        if not _converse_usage(body.get("usage"), usage):
            return None
        if reason := as_str(body.get("stopReason")):
            usage.finish_reasons = [reason]
        return usage
    return _invoke_usage(body)


# InvokeModel bodies by model family besides Anthropic: (input path, output path); the first with numbers wins.
_INVOKE_FIELDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("usage", "inputTokens"), ("usage", "outputTokens")),  # Amazon Nova
    (("prompt_token_count",), ("generation_token_count",)),  # Meta Llama
    (("usage", "prompt_tokens"), ("usage", "completion_tokens")),  # OpenAI-style (Mistral, DeepSeek)
)


def _invoke_usage(body: dict[str, Any]) -> Usage | None:
    if isinstance(dig(body, "usage", "input_tokens"), int):  # Anthropic: cache tokens apart, as in Converse
        usage = body["usage"]
        result = Usage(
            input_tokens=as_int(usage.get("input_tokens")),
            output_tokens=as_int(usage.get("output_tokens")),
            cache_read_tokens=as_int(usage.get("cache_read_input_tokens")),
            cache_write_tokens=as_int(usage.get("cache_creation_input_tokens")),
            model=as_str(body.get("model")),
            response_id=as_str(body.get("id")),
        )
        if result.input_tokens is not None:
            result.input_tokens += (result.cache_read_tokens or 0) + (result.cache_write_tokens or 0)
        if reason := as_str(body.get("stop_reason")):
            result.finish_reasons = [reason]
        return result
    for input_path, output_path in _INVOKE_FIELDS:
        tokens_in, tokens_out = as_int(dig(body, *input_path)), as_int(dig(body, *output_path))
        if tokens_in is not None or tokens_out is not None:
            return Usage(input_tokens=tokens_in, output_tokens=tokens_out)
    if (titan := as_int(body.get("inputTextTokenCount"))) is not None:  # Titan text and embeddings
        results = body.get("results")
        out = (
            sum(as_int(r.get("tokenCount")) or 0 for r in results if isinstance(r, dict))
            if isinstance(results, list)
            else None
        )
        return Usage(input_tokens=titan, output_tokens=out)
    return None  # headers carry the counts for the other families


def new_stream(route: Route) -> BedrockStream:
    return BedrockStream(_action(route))


class BedrockStream:
    """ConverseStream `metadata` event, or InvokeModelWithResponseStream `chunk` invocation metrics."""

    def __init__(self, action: str) -> None:
        self.done = False
        self._converse = action.startswith("converse")
        self._usage = Usage()
        self._seen = False

    def feed(self, event: str | None, data: str) -> None:
        if self._converse:
            if event == "messageStop":
                reason = _json(data).get("stopReason")
                if isinstance(reason, str):
                    self._usage.finish_reasons = [reason]
            elif event == "metadata":
                self._seen = _converse_usage(_json(data).get("usage"), self._usage) or self._seen
                self.done = True
            return
        if event != "chunk" or "bytes" not in data:
            return
        try:
            chunk = json.loads(base64.b64decode(_json(data).get("bytes") or ""))
        except (ValueError, binascii.Error):
            return
        metrics = dig(chunk, "amazon-bedrock-invocationMetrics")
        if isinstance(metrics, dict):
            self._usage.input_tokens = as_int(metrics.get("inputTokenCount"))
            self._usage.output_tokens = as_int(metrics.get("outputTokenCount"))
            self._seen = True
            self.done = True
        elif reason := as_str(dig(chunk, "delta", "stop_reason")):
            self._usage.finish_reasons = [reason]

    def finish(self) -> Usage | None:
        return self._usage if self._seen else None


def _json(data: str) -> dict[str, Any]:
    return loads_object(data) or {}
