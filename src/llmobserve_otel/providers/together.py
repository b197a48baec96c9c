"""Together AI: OpenAI-compatible chat, completions and embeddings at `api.together.xyz/v1`.

Wire format: https://docs.together.ai/reference — the OpenAI `usage` object; streams carry usage in
their last chunk (Together sends it without `stream_options`).
"""

from __future__ import annotations

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._types import Route
from llmobserve_otel.providers.openai import new_stream, parse_json, request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "together"
HOSTS = ("api.together.xyz", "api.together.ai")
TRANSPORTS = ("https",)
SDK = "together"

ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", openai.CHAT),
    ("/completions", openai.COMPLETIONS),
    ("/embeddings", openai.EMBEDDINGS),
)


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)
