"""Cohere: chat (v2 and v1), embed and rerank at `api.cohere.com` / `api.cohere.ai`.

Wire format: https://docs.cohere.com/reference/chat — v2 chat answers `usage.billed_units`
(`input_tokens`, `output_tokens`; the tokens Cohere bills, which may be fewer than `usage.tokens`);
v1 chat, embed and rerank answer `meta.billed_units`. Rerank bills `search_units` (one query with up
to 100 documents; longer documents count as several), priced per search in
`pricing/data/cohere.toml`. v2 chat streams are SSE whose `message-end` event carries
`delta.usage`.
"""

from __future__ import annotations

import json
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "cohere"
HOSTS = ("api.cohere.com", "api.cohere.ai")
TRANSPORTS = ("https",)
SDK = "cohere"

CHAT = Route("chat")
EMBED = Route("embeddings")
RERANK = Route("rerank")

ROUTES: dict[str, Route] = {
    "/v2/chat": CHAT,
    "/v1/chat": CHAT,
    "/v2/embed": EMBED,
    "/v1/embed": EMBED,
    "/v2/rerank": RERANK,
    "/v1/rerank": RERANK,
}


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    path = path.rstrip("/")
    return next((route for suffix, route in ROUTES.items() if path.endswith(suffix)), None)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": as_str(dig(body, "model")), "stream": dig(body, "stream") is True}


def _billed(billed: Any, into: Usage) -> bool:
    if not isinstance(billed, dict):
        return False
    into.input_tokens = as_int(billed.get("input_tokens"))
    into.output_tokens = as_int(billed.get("output_tokens"))
    for unit in ("search_units", "images"):
        amount = billed.get(unit)
        if isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount >= 0:
            into.units[unit] = amount
    return True


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    usage = Usage(response_id=as_str(body.get("id") or body.get("response_id")))
    billed = dig(body, "usage", "billed_units")
    if not _billed(billed if billed is not None else dig(body, "meta", "billed_units"), usage):
        return None
    if reason := as_str(body.get("finish_reason")):
        usage.finish_reasons = [reason]
    if route is RERANK and "search_units" not in usage.units:
        return None
    return usage


def new_stream(route: Route) -> ChatStream:
    return ChatStream()


class ChatStream:
    """v2 chat SSE: `message-start` (id), `message-end` (usage, finish reason); deltas skipped."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None
        self._id: str | None = None

    def feed(self, event: str | None, data: str) -> None:
        if data == "[DONE]":
            self.done = True
            return
        # The type is in the data (and, from Cohere's servers, also the event name).
        if event not in (None, "message-start", "message-end"):
            return
        if event is None and '"message-end"' not in data and '"message-start"' not in data:
            return
        try:
            payload = json.loads(data)
        except ValueError:
            return
        kind = dig(payload, "type")
        if kind == "message-start":
            self._id = as_str(dig(payload, "id"))
        elif kind == "message-end":
            usage = Usage()
            if _billed(dig(payload, "delta", "usage", "billed_units"), usage):
                self._usage = usage
            if self._usage is not None and (reason := as_str(dig(payload, "delta", "finish_reason"))):
                self._usage.finish_reasons = [reason]
            self.done = True

    def finish(self) -> Usage | None:
        if self._usage is not None:
            self._usage.response_id = self._id
        return self._usage
