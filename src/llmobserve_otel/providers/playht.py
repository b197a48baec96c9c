"""Play.ht (PlayAI): text-to-speech, billed per character of the request text.

Wire formats: Play.ht API v2 (https://docs.play.ht/reference/api-generate-tts-audio-stream) —
POST `https://api.play.ht/api/v2/tts/stream` (audio answer) or `/api/v2/tts` (a job), JSON body
`{"text", "voice", "voice_engine"}`; PlayAI v1 (https://docs.play.ai/tts-api-reference) — POST
`https://api.play.ai/api/v1/tts/stream` with `{"model", "text", "voice"}`. Characters are the
request text's code points; `voice_engine` / `model` is the model. The pyht SDK streams through
gRPC for some engines and pulls in heavy dependencies, so the tests drive the REST API directly.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route

NAME = "playht"
HOSTS = ("api.play.ht", "api.play.ai")
TRANSPORTS = ("https",)
SDK = None  # raw HTTP (see the module docstring)
COVERAGE_NOTE = "characters exact; no built-in price (Play.ht sells API usage in plans, no citable per-character rate): set yours in LLMOBSERVE_PRICING_FILE; the pyht SDK (gRPC) is not driven"

TTS = Route("tts", kind="speech")
_TTS_PATH = re.compile(r"/api/v[12]/tts(?:/stream)?/?")


def match(method: str, path: str) -> Route | None:
    return TTS if method == "POST" and _TTS_PATH.fullmatch(path) else None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    model = as_str(dig(body, "voice_engine")) or as_str(dig(body, "model"))
    text = dig(body, "text")
    if isinstance(text, list):  # v2 accepts a list of strings
        text = "".join(t for t in text if isinstance(t, str))
    return {"model": model, "units": {"characters": len(text)}} if isinstance(text, str) else {"model": model}


def parse_json(route: Route, body: Any) -> None:
    return None  # job objects and audio carry no usage; the characters come from the request
