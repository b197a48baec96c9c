"""OpenAI: hosts, billable routes and usage parsing (Chat Completions, Responses, Embeddings,
images, speech-to-text, text-to-speech).

Wire formats: https://platform.openai.com/docs/api-reference — `usage.prompt_tokens` includes
`prompt_tokens_details.cached_tokens`; `completion_tokens` includes reasoning tokens. Streams carry
usage only in a last chunk (`stream_options.include_usage`) or the `response.completed` event.

Non-token operations:
- Images: GPT image models return token `usage` (priced by genai-prices); DALL·E 2/3 are billed per
  image by size and quality, known only from the request, so the request yields a unit per variant
  (`images_<quality>_<size>`, e.g. `images_hd_1024x1792`) that our price data prices per image.
- Speech-to-text: the request is multipart (its `model` field is read); `whisper-1` answers with
  `usage: {"type": "duration", "seconds": N}` (or a verbose_json `duration`): unit `seconds`.
  Token-billed transcription models (gpt-4o-transcribe, ...) answer with token `usage`.
- Text-to-speech: the answer is audio; `tts-1`/`tts-1-hd` bill the request `input` per character.

The OpenAI-compatible providers (Groq, Together, Perplexity, Mistral, AI21, Azure OpenAI, Hugging
Face's router) import `match_routes`, `request_info`, `parse_json` and `new_stream` from here and
keep only their hosts and routes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig, loads_object
from llmobserve_otel.providers._types import Route, Usage

NAME = "openai"
HOSTS = ("api.openai.com",)
TRANSPORTS = ("https",)
SDK = "openai"

CHAT = Route("chat")
RESPONSES = Route("chat")  # the Responses API is a chat operation in GenAI semconv terms
EMBEDDINGS = Route("embeddings")
COMPLETIONS = Route("text_completion")
# kind "llm": these are GenAI calls whose model (from the request) prices them.
IMAGES = Route("image_generation")
IMAGE_EDITS = Route("image_edit")
TRANSCRIPTION = Route("transcription")
TRANSLATION = Route("translation")
SPEECH = Route("tts")

# Path suffix -> route; suffixes so that base-path prefixes (/v1, /openai/v1, a proxy's /openai) all match.
ROUTES: tuple[tuple[str, Route], ...] = (
    ("/chat/completions", CHAT),
    ("/responses", RESPONSES),
    ("/embeddings", EMBEDDINGS),
    ("/completions", COMPLETIONS),
    ("/images/generations", IMAGES),
    ("/images/edits", IMAGE_EDITS),
    ("/audio/transcriptions", TRANSCRIPTION),
    ("/audio/translations", TRANSLATION),
    ("/audio/speech", SPEECH),
)

# Models billed per image by size and quality (retired 2026-05-12; their prices stay for history).
PER_IMAGE_MODELS = frozenset({"dall-e-2", "dall-e-3"})


def match_routes(routes: tuple[tuple[str, Route], ...], method: str, path: str) -> Route | None:
    """The route whose suffix ends `path` (POST only): shared by the OpenAI-compatible providers."""
    if method != "POST":
        return None
    path = path.rstrip("/")
    for suffix, route in routes:
        if path.endswith(suffix):
            return route
    return None


def match(method: str, path: str) -> Route | None:
    return match_routes(ROUTES, method, path)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    """Model and streaming flags from the decoded request body; per-request units for media."""
    info: dict[str, Any] = {
        "model": as_str(dig(body, "model")),
        "stream": dig(body, "stream") is True,
    }
    if route is SPEECH:
        text = dig(body, "input")
        if isinstance(text, str):
            info["units"] = {"characters": len(text)}
        info["stream"] = dig(body, "stream_format") == "sse"
    elif route is IMAGES and isinstance(body, dict) and info["model"] in PER_IMAGE_MODELS:
        info["units"] = _image_units(body)
    return info


def _image_units(body: dict[str, Any]) -> dict[str, float]:
    """DALL·E: `n` images of one size and quality (defaults as documented: 1, 1024x1024, standard)."""
    count = as_int(body.get("n"))
    count = 1 if count is None else count
    size = as_str(body.get("size")) or "1024x1024"
    quality = as_str(body.get("quality"))
    quality = "hd" if quality == "hd" else "standard"  # `auto`/absent is standard for DALL·E
    return {"images": count, f"images_{quality}_{size}": count}


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    if route is RESPONSES:
        return _responses_usage(body)
    if route is IMAGES or route is IMAGE_EDITS:
        return _image_usage(body)
    if route is TRANSCRIPTION or route is TRANSLATION:
        return _transcription_usage(body)
    return _chat_usage(body)


def _image_usage(body: dict[str, Any]) -> Usage | None:
    """GPT image models: token usage; every model: the number of images returned."""
    usage = body.get("usage")
    result = Usage()
    if isinstance(usage, dict):
        result.input_tokens = as_int(usage.get("input_tokens"))
        result.output_tokens = as_int(usage.get("output_tokens"))
        result.cache_read_tokens = as_int(dig(usage, "input_tokens_details", "cached_tokens"))
    data = body.get("data")
    if isinstance(data, list):
        result.units["images"] = len(data)
    elif result.input_tokens is None:
        return None
    return result


def _transcription_usage(body: dict[str, Any]) -> Usage | None:
    """`usage` of type `duration` (whisper-1) or `tokens`; else a verbose_json `duration`."""
    usage = body.get("usage")
    if isinstance(usage, dict) and usage.get("type") == "tokens":
        return Usage(
            input_tokens=as_int(usage.get("input_tokens")),
            output_tokens=as_int(usage.get("output_tokens")),
            input_audio_tokens=as_int(dig(usage, "input_token_details", "audio_tokens")),
        )
    seconds = dig(usage, "seconds") if isinstance(usage, dict) else None
    if seconds is None:
        seconds = body.get("duration")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0:
        return Usage(units={"seconds": seconds})
    return None


def _chat_usage(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    # The details objects checked once, not per field (this runs for every priced chat call).
    prompt = usage.get("prompt_tokens_details")
    prompt = prompt if isinstance(prompt, dict) else _NO_DETAILS
    completion = usage.get("completion_tokens_details")
    completion = completion if isinstance(completion, dict) else _NO_DETAILS
    return Usage(
        input_tokens=as_int(usage.get("prompt_tokens")),
        output_tokens=as_int(usage.get("completion_tokens")),
        cache_read_tokens=as_int(prompt.get("cached_tokens")),
        reasoning_tokens=as_int(completion.get("reasoning_tokens")),
        input_audio_tokens=as_int(prompt.get("audio_tokens")),
        output_audio_tokens=as_int(completion.get("audio_tokens")),
        model=as_str(body.get("model")),
        response_id=as_str(body.get("id")),
        finish_reasons=_finish_reasons(body.get("choices")),
    )


_NO_DETAILS: dict[str, Any] = {}


def _responses_usage(body: dict[str, Any]) -> Usage | None:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    return Usage(
        input_tokens=as_int(usage.get("input_tokens")),
        output_tokens=as_int(usage.get("output_tokens")),
        cache_read_tokens=as_int(dig(usage, "input_tokens_details", "cached_tokens")),
        reasoning_tokens=as_int(dig(usage, "output_tokens_details", "reasoning_tokens")),
        model=as_str(body.get("model")),
        response_id=as_str(body.get("id")),
        finish_reasons=[s] if (s := as_str(body.get("status"))) else [],
    )


def _finish_reasons(choices: Any) -> list[str]:
    if not isinstance(choices, list):
        return []
    return [r for c in choices if (r := as_str(dig(c, "finish_reason")))]


def new_stream(
    route: Route,
) -> ChatStream | ResponsesStream | SpeechStream | ImageStream | TranscriptionStream:
    if route is RESPONSES:
        return ResponsesStream()
    if route is SPEECH:
        return SpeechStream()
    if route is IMAGES or route is IMAGE_EDITS:
        return ImageStream()
    if route is TRANSCRIPTION:
        return TranscriptionStream()
    return ChatStream()


# A chunk worth decoding after the first: a usage object or a finish reason (not `null`). Two
# patterns, each starting with a literal the regex engine scans for quickly, beat one alternation.
_USAGE = re.compile(r'"usage"\s*:\s*[{"]')
_FINISH_REASON = re.compile(r'"finish_reason"\s*:\s*[{"]')


class ChatStream:
    """Chat Completions chunks: model/id from the first chunk, usage from the include_usage chunk.

    Compatible providers that carry usage elsewhere in a chunk (Groq's `x_groq.usage`) override
    `usage_of`.
    """

    def __init__(self) -> None:
        self.done = False
        self._first = True
        self._usage: Usage | None = None
        self._model: str | None = None
        self._id: str | None = None
        self._finish: list[str] = []

    def feed(self, event: str | None, data: str) -> None:
        # Decoding every chunk would dominate a stream's overhead; only a few carry what we need.
        if data == "[DONE]":
            self.done = True
            return
        if not self._first and _USAGE.search(data) is None and _FINISH_REASON.search(data) is None:
            return
        chunk = loads_object(data)
        if chunk is None:
            return
        self._first = False
        self._model = self._model or as_str(chunk.get("model"))
        self._id = self._id or as_str(chunk.get("id"))
        self._finish.extend(_finish_reasons(chunk.get("choices")))
        usage = self.usage_of(chunk)
        if usage is not None:
            self._usage = usage

    def skips(self, text: str) -> bool:
        """Whether `feed` would ignore every event in `text` (whole events), so they need not be split out.

        Exact: an event is read only when it is the first, `[DONE]`, or carries `"usage"` or
        `"finish_reason"` with a value other than `null`; each key may occur once, as `null`, and
        nowhere else (an event's data holds no occurrence that its text does not). Partition and
        `in` cost a fraction of the regex engine or `str.count` (argument parsing) per chunk.
        """
        if self._first or "[DONE]" in text:
            return False
        head, _, tail = text.partition('"usage":null')
        if '"usage"' in head or '"usage"' in tail:
            return False
        head, _, tail = text.partition('"finish_reason":null')
        return '"finish_reason"' not in head and '"finish_reason"' not in tail

    def usage_of(self, chunk: dict[str, Any]) -> Usage | None:
        return _chat_usage(chunk)

    def finish(self) -> Usage | None:
        usage = self._usage or Usage()
        usage.model = usage.model or self._model
        usage.response_id = usage.response_id or self._id
        usage.finish_reasons = self._finish
        if self._usage is None and usage.model is None:
            return None
        return usage


_RESPONSE_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStream:
    """Responses API events: the final `response.completed` (or incomplete/failed) holds the usage."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None
        self._model: str | None = None

    def feed(self, event: str | None, data: str) -> None:
        if event is not None and event not in _RESPONSE_FINAL_EVENTS and event != "response.created":
            return
        try:
            payload = json.loads(data)
        except ValueError:
            return
        response = dig(payload, "response")
        if not isinstance(response, dict):
            return
        kind = dig(payload, "type")
        if kind == "response.created":
            self._model = as_str(response.get("model"))
        elif kind in _RESPONSE_FINAL_EVENTS:
            self._usage = self.usage_of(response)
            self.done = True

    def usage_of(self, response: dict[str, Any]) -> Usage | None:
        """Usage of the final response object; compatible providers with extra fields override it."""
        return _responses_usage(response)

    def finish(self) -> Usage | None:
        if self._usage is None:
            return Usage(model=self._model) if self._model else None
        self._usage.model = self._usage.model or self._model
        return self._usage


class SpeechStream:
    """Text-to-speech with `stream_format: "sse"`: `speech.audio.done` carries token usage."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None

    def feed(self, event: str | None, data: str) -> None:
        if '"speech.audio.done"' not in data:
            return  # audio deltas: large, and nothing to read in them
        try:
            payload = json.loads(data)
        except ValueError:
            return
        usage = dig(payload, "usage")
        if isinstance(usage, dict):
            self._usage = Usage(
                input_tokens=as_int(usage.get("input_tokens")),
                output_tokens=as_int(usage.get("output_tokens")),
            )
        self.done = True

    def finish(self) -> Usage | None:
        return self._usage


_IMAGE_DONE = re.compile(r'"type"\s*:\s*"image_(?:generation|edit)\.completed"')


class ImageStream:
    """GPT image models with `stream: true`: each `image_*.completed` event carries one image's usage."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None

    def feed(self, event: str | None, data: str) -> None:
        if _IMAGE_DONE.search(data) is None:
            return  # partial images: large, and nothing to read in them
        try:
            payload = json.loads(data)
        except ValueError:
            return
        usage = _image_usage({"usage": dig(payload, "usage"), "data": [None]})
        if usage is None:
            return
        if self._usage is None:
            self._usage = usage
        else:
            for field in ("input_tokens", "output_tokens", "cache_read_tokens"):
                value = getattr(usage, field)
                if value is not None:
                    setattr(self._usage, field, (getattr(self._usage, field) or 0) + value)
            self._usage.units["images"] += 1
        self.done = True

    def finish(self) -> Usage | None:
        return self._usage


class TranscriptionStream:
    """Token-billed transcription with `stream: true`: `transcript.text.done` carries the usage."""

    def __init__(self) -> None:
        self.done = False
        self._usage: Usage | None = None

    def feed(self, event: str | None, data: str) -> None:
        if '"transcript.text.done"' not in data:
            return
        try:
            payload = json.loads(data)
        except ValueError:
            return
        if isinstance(payload, dict):
            self._usage = _transcription_usage(payload)
        self.done = True

    def finish(self) -> Usage | None:
        return self._usage
