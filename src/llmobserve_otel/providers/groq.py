"""Groq: OpenAI-compatible Chat Completions and Whisper speech-to-text at `api.groq.com/openai/v1`.

Wire format: https://console.groq.com/docs/api-reference — the OpenAI `usage` object; a stream's
last chunk carries usage under `x_groq.usage` (or `usage` with `stream_options.include_usage`).
Speech-to-text is billed per hour of audio with a 10-second minimum per request
(https://console.groq.com/docs/speech-to-text): the audio length is only in a `verbose_json`
answer (`duration`), recorded as `seconds`, and the billed length as `billed_seconds`
(priced in `pricing/data/groq.toml`; genai-prices carries the same hourly rates).
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers import openai
from llmobserve_otel.providers._json import dig
from llmobserve_otel.providers._types import Route, Usage
from llmobserve_otel.providers.openai import request_info

__all__ = ("HOSTS", "NAME", "ROUTES", "match", "new_stream", "parse_json", "request_info")

NAME = "groq"
HOSTS = ("api.groq.com",)
TRANSPORTS = ("https",)
SDK = "groq"

ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", openai.CHAT),
    ("/responses", openai.RESPONSES),
    ("/audio/transcriptions", openai.TRANSCRIPTION),
    ("/audio/translations", openai.TRANSLATION),
)
MINIMUM_BILLED_SECONDS = 10


def match(method: str, path: str) -> Route | None:
    return openai.match_routes(ROUTES, method, path)


def parse_json(route: Route, body: Any) -> Usage | None:
    usage = openai.parse_json(route, body)
    if usage is not None and (seconds := usage.units.get("seconds")) is not None:
        usage.units["billed_seconds"] = max(seconds, MINIMUM_BILLED_SECONDS)
    return usage


class GroqChatStream(openai.ChatStream):
    """Chat chunks whose usage may sit under `x_groq` (Groq's own stream extension)."""

    def usage_of(self, chunk: dict[str, Any]) -> Usage | None:
        usage = super().usage_of(chunk)
        if usage is None and isinstance(dig(chunk, "x_groq", "usage"), dict):
            usage = super().usage_of({**chunk, "usage": chunk["x_groq"]["usage"]})
        return usage


def new_stream(route: Route) -> Any:
    return openai.ResponsesStream() if route is openai.RESPONSES else GroqChatStream()
