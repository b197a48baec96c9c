"""Perplexity: Sonar chat (`/chat/completions`, OpenAI Chat Completions shape) and the Agent API
(`/v1/responses` and `/v1/agent`, OpenAI Responses shape) at `api.perplexity.ai`.

Perplexity reports what each call cost: `usage.cost.total_cost` in USD (Sonar: tokens plus the
request fee and search costs; Agent API: tokens at the serving model's rate plus tool calls). When
present it is recorded as `llmobserve.usage.billed_usd`, which the pricing core takes over any rate.
Without it, Sonar is priced from `pricing/data/perplexity.toml`: tokens plus a per-request fee by
search context size (`usage.search_context_size`: `low`, the default, `medium` or `high`; unit
`requests_context_<size>` = 1). genai-prices carries only the `high` fee. Sonar Chat Completions
support ended on 2026-09-27 (https://docs.perplexity.ai/docs/agent-api/migrate-from-sonar).
Wire formats: https://docs.perplexity.ai/api-reference, and the `perplexityai` SDK's
`UsageInfo` / `ResponsesUsage` types.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage
from llmobserve_otel.providers.openai import request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "perplexity"
HOSTS = ("api.perplexity.ai",)
TRANSPORTS = ("https",)
SDK = "openai"  # Perplexity documents the OpenAI SDK with its base URL
OPERATIONS = ("chat",)
COVERAGE_NOTE = "the cost Perplexity reports (usage.cost.total_cost) wins; Sonar and Agent API"

ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", openai.CHAT),
    ("/v1/responses", openai.RESPONSES),
    ("/v1/agent", openai.RESPONSES),
)
CONTEXT_SIZES = frozenset({"low", "medium", "high"})
DEFAULT_CONTEXT_SIZE = "low"


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)


def _billed(usage: Usage, reported: Any) -> Usage:
    total = dig(reported, "cost", "total_cost")
    if isinstance(total, (int, float)) and not isinstance(total, bool) and total >= 0:
        usage.units["billed_usd"] = total
    return usage


def _sonar(usage: Usage | None, body: dict[str, Any]) -> Usage | None:
    if usage is None:
        return None
    size = as_str(dig(body, "usage", "search_context_size"))
    size = size if size in CONTEXT_SIZES else DEFAULT_CONTEXT_SIZE
    usage.units[f"requests_context_{size}"] = 1
    return _billed(usage, body.get("usage"))


def _agent(response: dict[str, Any]) -> Usage | None:
    reported = response.get("usage")
    if not isinstance(reported, dict):
        return None
    usage = Usage(
        input_tokens=as_int(reported.get("input_tokens")),
        output_tokens=as_int(reported.get("output_tokens")),
        cache_read_tokens=as_int(dig(reported, "input_tokens_details", "cache_read_input_tokens")),
        cache_write_tokens=as_int(dig(reported, "input_tokens_details", "cache_creation_input_tokens")),
        model=as_str(response.get("model")),
        response_id=as_str(response.get("id")),
        finish_reasons=[s] if (s := as_str(response.get("status"))) else [],
    )
    return _billed(usage, reported)


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    if route is openai.RESPONSES:
        return _agent(body)
    return _sonar(openai.parse_json(route, body), body)


class SonarStream(openai.ChatStream):
    """Chat chunks; the usage chunk also names the search context size and the cost."""

    def usage_of(self, chunk: dict[str, Any]) -> Usage | None:
        return _sonar(super().usage_of(chunk), chunk)


class AgentStream(openai.ResponsesStream):
    """Responses events; `response.completed` carries the usage with its cost."""

    def usage_of(self, response: dict[str, Any]) -> Usage | None:
        return _agent(response)


def new_stream(route: Route) -> SonarStream | AgentStream:
    return AgentStream() if route is openai.RESPONSES else SonarStream()
