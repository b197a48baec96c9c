"""Google Gemini (Gemini Developer API and Vertex AI): `models/{model}:generateContent` and
`:streamGenerateContent?alt=sse`.

Wire format: https://ai.google.dev/api/generate-content — `usageMetadata.promptTokenCount` includes
`cachedContentTokenCount`; thinking tokens (`thoughtsTokenCount`) are billed as output but are not
part of `candidatesTokenCount`, and tool-use prompt tokens (`toolUsePromptTokenCount`) are billed as
input but are not part of `promptTokenCount`: both are added here, as genai-prices' own Google
extractor does. The model is in the path; the response's `modelVersion` names the exact version.
A streamed response repeats `usageMetadata` in its chunks, the last one holding the totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig, loads_object
from llmobserve_otel.providers._types import Route, Usage

NAME = "gemini"
HOSTS = (
    "generativelanguage.googleapis.com",
    "aiplatform.googleapis.com",
    "*-aiplatform.googleapis.com",
)
TRANSPORTS = ("https",)
SDK = "google-genai"
OPERATIONS = ("chat",)
COVERAGE_NOTE = "sync client on httpx, async client on aiohttp (both tested)"

# .../models/{model}:{method}; {model} may hold `/` on Vertex (publishers/google/models/...).
_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$")
_OPERATIONS = {
    "generateContent": "chat",
    "streamGenerateContent": "chat",
}


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    found = _PATH.search(path)
    if found is None:
        return None
    operation = _OPERATIONS.get(found["method"])
    if operation is None:
        return None  # countTokens is free; embedContent answers without usage on the Gemini API
    if found["method"] == "streamGenerateContent":
        return StreamRoute(operation, model=found["model"])
    return Route(operation, model=found["model"])


@dataclass(frozen=True)
class StreamRoute(Route):
    """A streamed call: Gemini chooses streaming by the path's method, not by the request body."""


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": route.model, "stream": isinstance(route, StreamRoute)}


def _modality(details: Any, modality: str) -> int | None:
    if not isinstance(details, list):
        return None
    return next((as_int(d.get("tokenCount")) for d in details if dig(d, "modality") == modality), None)


def _usage(body: dict[str, Any]) -> Usage | None:
    meta = body.get("usageMetadata")
    if not isinstance(meta, dict):
        return None
    prompt = as_int(meta.get("promptTokenCount"))
    tool_prompt = as_int(meta.get("toolUsePromptTokenCount")) or 0
    candidates = as_int(meta.get("candidatesTokenCount"))
    thoughts = as_int(meta.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=None if prompt is None else prompt + tool_prompt,
        output_tokens=None
        if candidates is None and thoughts is None
        else (candidates or 0) + (thoughts or 0),
        cache_read_tokens=as_int(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
        input_audio_tokens=_modality(meta.get("promptTokensDetails"), "AUDIO"),
        output_audio_tokens=_modality(meta.get("candidatesTokensDetails"), "AUDIO"),
        model=as_str(body.get("modelVersion")),
        response_id=as_str(body.get("responseId")),
        finish_reasons=_finish_reasons(body),
    )


def _finish_reasons(body: dict[str, Any]) -> list[str]:
    candidates = body.get("candidates")
    if not isinstance(candidates, list):
        return []
    return [r for c in candidates if (r := as_str(dig(c, "finishReason")))]


def parse_json(route: Route, body: Any) -> Usage | None:
    if isinstance(body, list):  # `streamGenerateContent` without `alt=sse` answers a JSON array
        usages = [u for chunk in body if isinstance(chunk, dict) and (u := _usage(chunk)) is not None]
        return usages[-1] if usages else None
    return _usage(body) if isinstance(body, dict) else None


def new_stream(route: Route) -> GenerateContentStream:
    return GenerateContentStream()


class GenerateContentStream:
    """Each SSE `data:` is a GenerateContentResponse; the last `usageMetadata` holds the totals."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None
        self._finish: list[str] = []

    def feed(self, event: str | None, data: str) -> None:
        if '"usageMetadata"' not in data and '"finishReason"' not in data:
            return
        chunk = loads_object(data)
        if chunk is None:
            return
        self._finish.extend(_finish_reasons(chunk))
        usage = _usage(chunk)
        if usage is not None:
            if self._usage is not None:
                usage.model = usage.model or self._usage.model
                usage.response_id = usage.response_id or self._usage.response_id
            self._usage = usage
        # The chunk with a finish reason is the last one the API sends.
        self.done = self.done or bool(self._finish and self._usage is not None)

    def finish(self) -> Usage | None:
        if self._usage is not None:
            self._usage.finish_reasons = self._finish
        return self._usage
