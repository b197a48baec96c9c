"""OpenAI: hosts, billable routes and usage parsing (Chat Completions, Responses, Embeddings).

Wire formats: https://platform.openai.com/docs/api-reference — `usage.prompt_tokens` includes
`prompt_tokens_details.cached_tokens`; `completion_tokens` includes reasoning tokens. Streams carry
usage only in a last chunk (`stream_options.include_usage`) or the `response.completed` event.
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "openai"
HOSTS = ("api.openai.com",)

CHAT = Route("chat")
RESPONSES = Route("chat")  # the Responses API is a chat operation in GenAI semconv terms
EMBEDDINGS = Route("embeddings")
COMPLETIONS = Route("text_completion")

# Path suffix -> route; suffixes so that base-path prefixes (/v1, /openai/v1, a proxy's /openai) all match.
ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", CHAT),
    ("/responses", RESPONSES),
    ("/embeddings", EMBEDDINGS),
    ("/completions", COMPLETIONS),
)


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    path = path.rstrip("/")
    for suffix, route in ROUTES:
        if path.endswith(suffix):
            return route
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    """Model and streaming flags from the decoded request body."""
    return {
        "model": as_str(dig(body, "model")),
        "stream": dig(body, "stream") is True,
    }


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    if route is RESPONSES:
        return _responses_usage(body)
    return _chat_usage(body)


def _chat_usage(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = dig(usage, "prompt_tokens_details")
    completion = dig(usage, "completion_tokens_details")
    return Usage(
        input_tokens=as_int(usage.get("prompt_tokens")),
        output_tokens=as_int(usage.get("completion_tokens")),
        cache_read_tokens=as_int(dig(prompt, "cached_tokens")),
        reasoning_tokens=as_int(dig(completion, "reasoning_tokens")),
        input_audio_tokens=as_int(dig(prompt, "audio_tokens")),
        output_audio_tokens=as_int(dig(completion, "audio_tokens")),
        model=as_str(body.get("model")),
        response_id=as_str(body.get("id")),
        finish_reasons=_finish_reasons(body.get("choices")),
    )


def _responses_usage(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")),
        output_tokens=as_int(usage.get("output_tokens")),
        cache_read_tokens=as_int(dig(usage, "input_tokens_details", "cached_tokens")),
        reasoning_tokens=as_int(dig(usage, "output_tokens_details", "reasoning_tokens")),
        model=as_str(body.get("model")),
        response_id=as_str(body.get("id")),
        finish_reasons=[s] if (s := as_str(body.get("status"))) else [],
    )


def _finish_reasons(choices: Any) -> list[str]:
    if not isinstance(choices, list):
        return []
    return [r for c in choices if (r := as_str(dig(c, "finish_reason")))]


def new_stream(route: Route) -> ChatStream | ResponsesStream:
    return ResponsesStream() if route is RESPONSES else ChatStream()


# A chunk worth decoding after the first: a usage object or a finish reason (not `null`).
_INTERESTING = re.compile(r'"(?:usage|finish_reason)"\s*:\s*[{"]')


class ChatStream:
    """Chat Completions chunks: model/id from the first chunk, usage from the include_usage chunk."""

    def __init__(self) -> None:
        self.done = False
        self._first = True
        self._usage: Usage | None = None
        self._model: str | None = None
        self._id: str | None = None
        self._finish: list[str] = []

    def feed(self, event: str | None, data: str) -> None:
        # Decoding every chunk would dominate a stream's overhead; only a few carry what we need.
        if data == "[DONE]":
            self.done = True
            return
        if not self._first and _INTERESTING.search(data) is None:
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            return
        if not isinstance(chunk, dict):
            return
        self._first = False
        self._model = self._model or as_str(chunk.get("model"))
        self._id = self._id or as_str(chunk.get("id"))
        self._finish.extend(_finish_reasons(chunk.get("choices")))
        usage = _chat_usage(chunk)
        if usage is not None:
            self._usage = usage

    def finish(self) -> Usage | None:
        usage = self._usage or Usage()
        usage.model = usage.model or self._model
        usage.response_id = usage.response_id or self._id
        usage.finish_reasons = self._finish
        if self._usage is None and usage.model is None:
            return None
        return usage


_RESPONSE_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStream:
    """Responses API events: the final `response.completed` (or incomplete/failed) holds the usage."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None
        self._model: str | None = None

    def feed(self, event: str | None, data: str) -> None:
        if event is not None and event not in _RESPONSE_FINAL_EVENTS and event != "response.created":
            return
        try:
            payload = json.loads(data)
        except ValueError:
            return
        response = dig(payload, "response")
        if not isinstance(response, dict):
            return
        kind = dig(payload, "type")
        if kind == "response.created":
            self._model = as_str(response.get("model"))
        elif kind in _RESPONSE_FINAL_EVENTS:
            self._usage = _responses_usage(response)
            self.done = True

    def finish(self) -> Usage | None:
        if self._usage is None:
            return Usage(model=self._model) if self._model else None
        self._usage.model = self._usage.model or self._model
        return self._usage
