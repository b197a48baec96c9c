"""Hugging Face Inference Providers: the router's OpenAI-compatible chat at
`router.huggingface.co/v1/chat/completions` (or `/{provider}/v1/chat/completions`).

Billing (https://huggingface.co/docs/inference-providers/pricing): routed requests are charged the
serving provider's own rate, with no Hugging Face markup; chat is billed in tokens. The unit is
therefore tokens at the rate of the provider that served the call, which the request names:
`"model": "{model}:{provider}"` (the router's syntax), or the `/{provider}/` path prefix, which is
folded into the same `model:provider` form here. The response's `model` is the serving provider's
own id and not a billing key, so the request model prices the call (`pricing/data/huggingface.toml`,
rates from https://huggingface.co/inference/models). A request without a provider (`:fastest`,
`:cheapest` or none) is routed by Hugging Face to a provider the response does not name: its
tokens are recorded, without a cost.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._types import Route, Usage

__all__ = ("HOSTS", "NAME", "match", "new_stream", "parse_json", "request_info")

NAME = "huggingface"
HOSTS = ("router.huggingface.co",)
TRANSPORTS = ("https",)
SDK = "huggingface-hub"
COVERAGE_NOTE = "priced when the request names the serving provider (model:provider or /{provider}/)"

_CHAT = re.compile(r"^(?:/(?P<provider>[a-z0-9-]+))?(?:/v1)?/chat/completions/?$")
# Route per serving provider named in the path (a handful: bounded by the router's provider list).
_ROUTES: dict[str | None, Route] = {None: openai.CHAT}


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    found = _CHAT.match(path)
    if found is None:
        return None
    provider = found["provider"]
    if provider in (None, "v1"):
        return openai.CHAT
    route = _ROUTES.get(provider)
    if route is None and len(_ROUTES) < 256:
        route = _ROUTES.setdefault(provider, Route(openai.CHAT.operation, model=f":{provider}"))
    return route or openai.CHAT


def request_info(route: Route, body: Any) -> dict[str, Any]:
    info = openai.request_info(openai.CHAT, body)
    if route.model and info["model"] and ":" not in info["model"]:
        info["model"] += route.model  # `/together/v1/...` + `M` -> `M:together`
    return info


def parse_json(route: Route, body: Any) -> Usage | None:
    usage = openai.parse_json(openai.CHAT, body)
    if usage is not None:
        usage.model = None  # the provider's own model id; the request's `model:provider` prices the call
    return usage


class RouterChatStream(openai.ChatStream):
    def finish(self) -> Usage | None:
        usage = super().finish()
        if usage is not None:
            usage.model = None
        return usage


def new_stream(route: Route) -> RouterChatStream:
    return RouterChatStream()
