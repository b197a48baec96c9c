"""Mistral AI: OpenAI-shaped Chat Completions, FIM, agents and embeddings, and OCR at
`api.mistral.ai/v1`.

Wire format: https://docs.mistral.ai/api/ — `usage.prompt_tokens` / `completion_tokens` as OpenAI's;
streams end with a chunk carrying `usage`, then `data: [DONE]`. OCR (`/v1/ocr`) bills pages:
`usage_info.pages_processed` (unit `pages`, priced in `pricing/data/mistral.toml`; pages of a
request asking for annotations cost more and are not told apart yet).
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage
from llmobserve_otel.providers.openai import new_stream, request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "mistral"
HOSTS = ("api.mistral.ai",)
TRANSPORTS = ("https",)
SDK = "mistralai"

OCR = Route("ocr")

ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", openai.CHAT),
    ("/agents/completions", openai.CHAT),
    ("/fim/completions", openai.COMPLETIONS),
    ("/embeddings", openai.EMBEDDINGS),
    ("/ocr", OCR),
)


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)


def parse_json(route: Route, body: Any) -> Usage | None:
    if route is not OCR:
        return openai.parse_json(route, body)
    pages = as_int(dig(body, "usage_info", "pages_processed"))
    if pages is None:
        return None
    return Usage(model=as_str(dig(body, "model")), units={"pages": pages})
