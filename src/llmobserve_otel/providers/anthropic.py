"""Anthropic: hosts, billable routes and usage parsing (Messages, streamed and not).

Wire format: https://docs.anthropic.com/en/api/messages — `usage.input_tokens` EXCLUDES
`cache_read_input_tokens` and `cache_creation_input_tokens`; GenAI semconv (and genai-prices)
count them in, so they are added here. Streams: `message_start` carries the input side,
`message_delta` the cumulative output tokens.
"""

from __future__ import annotations

import json
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "anthropic"
HOSTS = ("api.anthropic.com",)
TRANSPORTS = ("https",)
SDK = "anthropic"

MESSAGES = Route("chat")
COUNT_TOKENS = "/messages/count_tokens"  # free; not a billable call


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    path = path.rstrip("/")
    if path.endswith("/messages") and not path.endswith(COUNT_TOKENS):
        return MESSAGES
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": as_str(dig(body, "model")), "stream": dig(body, "stream") is True}


def _usage(usage: Any, into: Usage) -> None:
    """Merge an Anthropic `usage` object into `into`; later (cumulative) values win."""
    if not isinstance(usage, dict):
        return
    for field, key in (
        ("input_tokens", "input_tokens"),
        ("output_tokens", "output_tokens"),
        ("cache_read_tokens", "cache_read_input_tokens"),
        ("cache_write_tokens", "cache_creation_input_tokens"),
    ):
        value = as_int(usage.get(key))
        if value is not None:
            setattr(into, field, value)


def _normalise(usage: Usage) -> Usage:
    if usage.input_tokens is not None:
        usage.input_tokens += (usage.cache_read_tokens or 0) + (usage.cache_write_tokens or 0)
    return usage


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict) or not isinstance(body.get("usage"), dict):
        return None
    usage = Usage(model=as_str(body.get("model")), response_id=as_str(body.get("id")))
    _usage(body["usage"], usage)
    if reason := as_str(body.get("stop_reason")):
        usage.finish_reasons = [reason]
    return _normalise(usage)


def new_stream(route: Route) -> MessagesStream:
    return MessagesStream()


class MessagesStream:
    """`message_start` then `message_delta` events; everything else (text deltas, pings) is skipped."""

    def __init__(self) -> None:
        self.done = False
        self._usage = Usage()
        self._seen = False

    def feed(self, event: str | None, data: str) -> None:
        if event == "message_stop":
            self.done = True
            return
        if event not in ("message_start", "message_delta"):
            return
        try:
            payload = json.loads(data)
        except ValueError:
            return
        if event == "message_start":
            message = dig(payload, "message")
            self._usage.model = as_str(dig(message, "model"))
            self._usage.response_id = as_str(dig(message, "id"))
            _usage(dig(message, "usage"), self._usage)
        else:
            _usage(dig(payload, "usage"), self._usage)
            if reason := as_str(dig(payload, "delta", "stop_reason")):
                self._usage.finish_reasons = [reason]
        self._seen = True

    def finish(self) -> Usage | None:
        return _normalise(self._usage) if self._seen else None
