"""AI21 Labs: Jamba chat at `api.ai21.com/studio/v1/chat/completions` (OpenAI-shaped).

Wire format: https://docs.ai21.com/reference/jamba-1-6-api-ref — `usage.prompt_tokens`,
`completion_tokens`; streams end with a chunk carrying `usage`, then `data: [DONE]`.
genai-prices has no AI21 prices: they are in `pricing/data/ai21.toml`.
"""

from __future__ import annotations

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._types import Route
from llmobserve_otel.providers.openai import new_stream, parse_json, request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "ai21"
HOSTS = ("api.ai21.com",)
TRANSPORTS = ("https",)
SDK = "ai21"

ROUTES: tuple[tuple[str, Route], ...] = (("/chat/completions", openai.CHAT),)


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)
