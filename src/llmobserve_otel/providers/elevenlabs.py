"""ElevenLabs: text-to-speech, billed in credits per character of the request text.

Wire format: https://elevenlabs.io/docs/api-reference/text-to-speech/convert — POST
`/v1/text-to-speech/{voice_id}[/stream][/with-timestamps]` with JSON `{"text", "model_id"}`; the
answer is audio (or JSON with base64 audio for `with-timestamps`). The response header
`character-cost` carries the credits the call consumed (after the model's discount and any voice
multiplier), so it is preferred; without it the credits are derived from the request text:
Flash and Turbo models cost 1 credit per 2 characters, every other model 1 per character
(https://help.elevenlabs.io/hc/en-us/articles/21811236079505). Characters are Unicode code points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route

NAME = "elevenlabs"
HOSTS = ("api.elevenlabs.io", "*.elevenlabs.io")  # also api.us.elevenlabs.io and the residency hosts
TRANSPORTS = ("https",)
SDK = "elevenlabs"

TTS = Route("tts", kind="speech")
DEFAULT_MODEL = "eleven_multilingual_v2"  # the API's default `model_id`
_TTS_PATH = re.compile(r"/v1/text-to-speech/[^/]+(?:/stream)?(?:/with-timestamps)?/?")
# Model id prefix -> credits per character; the first match wins, the last entry is the default.
_CREDITS_PER_CHARACTER: tuple[tuple[str, float], ...] = (
    ("eleven_flash_", 0.5),
    ("eleven_turbo_", 0.5),
    ("", 1.0),
)


def match(method: str, path: str) -> Route | None:
    if method == "POST" and _TTS_PATH.fullmatch(path):
        return TTS
    return None


def credits_per_character(model: str) -> float:
    return next(rate for prefix, rate in _CREDITS_PER_CHARACTER if model.startswith(prefix))


def request_info(route: Route, body: Any) -> dict[str, Any]:
    model = as_str(dig(body, "model_id")) or DEFAULT_MODEL
    text = dig(body, "text")
    if not isinstance(text, str):
        return {"model": model}
    characters = len(text)
    return {
        "model": model,
        "units": {"characters": characters, "credits": characters * credits_per_character(model)},
    }


def parse_headers(route: Route, headers: Mapping[str, str]) -> dict[str, float]:
    """`character-cost`: the credits ElevenLabs charged for this call (wins over the request estimate)."""
    try:
        cost = float(headers.get("character-cost") or "")
    except ValueError:
        return {}
    return {"credits": cost} if math.isfinite(cost) and cost >= 0 else {}


def parse_json(route: Route, body: Any) -> None:
    return None  # the JSON answers (`with-timestamps`) carry audio and alignment, no usage
