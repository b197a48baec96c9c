"""ElevenLabs: text-to-speech, billed in credits per character of the request text.

Wire format: https://elevenlabs.io/docs/api-reference/text-to-speech/convert — POST
`/v1/text-to-speech/{voice_id}[/stream][/with-timestamps]` with JSON `{"text", "model_id"}`; the
answer is audio (or JSON with base64 audio for `with-timestamps`). The response header
`character-cost` carries the credits the call consumed (after the model's discount and any voice
multiplier), so it is preferred; without it the credits are derived from the request text:
Flash and Turbo models cost 1 credit per 2 characters, every other model 1 per character
(https://help.elevenlabs.io/hc/en-us/articles/21811236079505). Characters are Unicode code points.

Streamed input over WebSocket (https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-stream-input):
`/v1/text-to-speech/{voice_id}/stream-input?model_id=...`; the client sends `{"text": ...}`
messages (the first, a single space, opens the stream; an empty text closes it) and the server
answers audio chunks, the last one with `"isFinal": true`. No usage comes back, so the characters
of the text the app sent are counted (the opening space excluded) and billed at `isFinal`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route, SessionEvent, Usage

NAME = "elevenlabs"
HOSTS = ("api.elevenlabs.io", "*.elevenlabs.io")  # also api.us.elevenlabs.io and the residency hosts
TRANSPORTS = ("https", "websocket")
SDK = "elevenlabs"
COVERAGE_NOTE = "TTS (REST and stream-input WebSocket); credits from the `character-cost` header, else the request text x the model's credits per character; speech-to-text, dubbing and sound effects not covered"

TTS = Route("tts", kind="speech")
TTS_STREAM_INPUT = Route("tts", kind="speech")
DEFAULT_MODEL = "eleven_multilingual_v2"  # the API's default `model_id`
_TTS_PATH = re.compile(r"/v1/text-to-speech/[^/]+(?:/stream)?(?:/with-timestamps)?/?")
_STREAM_INPUT_PATH = re.compile(r"/v1/text-to-speech/[^/]+/stream-input/?")
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


def new_ws_session(path: str, params: dict[str, str]) -> StreamInputSession | None:
    if not _STREAM_INPUT_PATH.fullmatch(path):
        return None
    return StreamInputSession(params.get("model_id") or DEFAULT_MODEL)


class StreamInputSession:
    """One stream-input connection: characters of the text sent, billed when the server says `isFinal`."""

    route = TTS_STREAM_INPUT

    def __init__(self, model: str) -> None:
        self.model = model
        self._characters = 0
        self._opened = False
        self._started = False
        self._count = 0

    def _id(self) -> str:
        return f"stream-input-{self._count}"

    def sent(self, message: str) -> SessionEvent | None:
        try:
            text = dig(json.loads(message), "text")
        except ValueError:
            return None
        if not isinstance(text, str):
            return None
        if not self._opened and text == " ":  # the opening message, required by the protocol
            self._opened = True
            return None
        self._opened = True
        self._characters += len(text)
        if text and not self._started:
            self._started = True
            self._count += 1
            return SessionEvent(self._id())
        return None

    def feed(self, message: str) -> SessionEvent | None:
        # Audio chunks are large and never final (the final message has no audio): skip them unparsed.
        if len(message) > 4096 or '"isFinal"' not in message:
            return None
        try:
            final = dig(json.loads(message), "isFinal")
        except ValueError:
            return None
        if final is not True or not self._started:
            return None
        characters, self._characters, self._started = self._characters, 0, False
        usage = Usage(
            model=self.model,
            units={"characters": characters, "credits": characters * credits_per_character(self.model)},
        )
        return SessionEvent(self._id(), usage)
