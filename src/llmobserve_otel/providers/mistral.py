"""Mistral AI: OpenAI-shaped Chat Completions, FIM, agents and embeddings at `api.mistral.ai/v1`.

Wire format: https://docs.mistral.ai/api/ — `usage.prompt_tokens` / `completion_tokens` as OpenAI's;
streams end with a chunk carrying `usage`, then `data: [DONE]`.
"""

from __future__ import annotations

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._types import Route
from llmobserve_otel.providers.openai import new_stream, parse_json, request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "mistral"
HOSTS = ("api.mistral.ai",)
TRANSPORTS = ("https",)
SDK = "mistralai"

ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", openai.CHAT),
    ("/agents/completions", openai.CHAT),
    ("/fim/completions", openai.COMPLETIONS),
    ("/embeddings", openai.EMBEDDINGS),
)


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)
