"""Perplexity: Sonar chat at `api.perplexity.ai/chat/completions` (OpenAI-shaped), tokens plus a
per-request fee that depends on the search context size.

Wire format: https://docs.perplexity.ai/api-reference/chat-completions-post — the OpenAI `usage`
object plus `usage.search_context_size` (`low`, the default, `medium` or `high`). The fee is a unit
per size, `requests_context_<size>` = 1, priced with the tokens in `pricing/data/perplexity.toml`
(genai-prices carries only the `high` fee). Models without an entry there (e.g. sonar-deep-research)
are priced by genai-prices.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route, Usage
from llmobserve_otel.providers.openai import request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "perplexity"
HOSTS = ("api.perplexity.ai",)
TRANSPORTS = ("https",)
SDK = "openai"  # Perplexity documents the OpenAI SDK with its base URL

ROUTES: tuple[tuple[str, Route], ...] = (("/chat/completions", openai.CHAT),)
CONTEXT_SIZES = frozenset({"low", "medium", "high"})
DEFAULT_CONTEXT_SIZE = "low"


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)


def _with_request_fee(usage: Usage | None, body: dict[str, Any]) -> Usage | None:
    if usage is None:
        return None
    size = as_str(dig(body, "usage", "search_context_size"))
    size = size if size in CONTEXT_SIZES else DEFAULT_CONTEXT_SIZE
    usage.units[f"requests_context_{size}"] = 1
    return usage


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    return _with_request_fee(openai.parse_json(route, body), body)


class SonarStream(openai.ChatStream):
    """Chat chunks; the usage chunk also names the search context size."""

    def usage_of(self, chunk: dict[str, Any]) -> Usage | None:
        return _with_request_fee(super().usage_of(chunk), chunk)


def new_stream(route: Route) -> SonarStream:
    return SonarStream()
