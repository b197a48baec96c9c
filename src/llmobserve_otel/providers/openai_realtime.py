"""OpenAI Realtime over WebSocket: one billed response per `response.done` event.

Wire format: https://platform.openai.com/docs/api-reference/realtime-server-events — the client
connects to `wss://api.openai.com/v1/realtime?model=...`; the server sends `session.created` /
`session.updated` (`session.model`, `session.id`), then per response `response.created` and, at the
end, `response.done` whose `response.usage` has `input_tokens` (text + audio + image, cached
included), `output_tokens`, `input_token_details.{audio_tokens, cached_tokens,
cached_tokens_details.audio_tokens}` and `output_token_details.audio_tokens`. A cancelled or
failed response still reports (and is billed for) the tokens it used.

Input audio transcription (when the session enables it) is billed apart, by its own model
(`session.audio.input.transcription.model`; `session.input_audio_transcription.model` in the beta
shape): each `conversation.item.input_audio_transcription.completed` event carries `usage`, either
tokens (`gpt-4o-transcribe`, ...: operation `input_audio_transcription`, priced by genai-prices) or
`{"type": "duration", "seconds"}` (`whisper-1`: operation `transcription`, priced per second).

Companion of `providers/openai.py`, found by the WebSocket capture through `new_ws_session`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, SessionEvent, Usage

INPUT_TRANSCRIPTION = Route("input_audio_transcription")
DURATION_TRANSCRIPTION = Route("transcription", kind="speech")
_TRANSCRIBED = "conversation.item.input_audio_transcription.completed"

_WANTED = frozenset({"session.created", "session.updated", "response.created", "response.done", _TRANSCRIBED})
# The server writes the event type first; when it does, one anchored match decides. Otherwise the
# whole message is searched for a wanted type (audio deltas, most of the traffic, never hold one).
_LEADING_TYPE = re.compile(r'\s*\{\s*"type"\s*:\s*"([^"]*)"')
_ANY_WANTED = re.compile(
    r'"(?:session\.created|session\.updated|response\.created|response\.done'
    r'|conversation\.item\.input_audio_transcription\.completed)"'
)


def new_ws_session(path: str, params: dict[str, str]) -> RealtimeSession | None:
    if not path.rstrip("/").endswith("/realtime"):
        return None
    return RealtimeSession(params.get("model"))


def usage_from_response(response: dict[str, Any], model: str | None) -> Usage:
    usage = response.get("usage")
    result = Usage(
        model=as_str(response.get("model")) or model,
        response_id=as_str(response.get("id")),
        finish_reasons=[status] if (status := as_str(response.get("status"))) else [],
    )
    if not isinstance(usage, dict):
        return result
    result.input_tokens = as_int(usage.get("input_tokens"))
    result.output_tokens = as_int(usage.get("output_tokens"))
    result.cache_read_tokens = as_int(dig(usage, "input_token_details", "cached_tokens"))
    result.input_audio_tokens = as_int(dig(usage, "input_token_details", "audio_tokens"))
    result.output_audio_tokens = as_int(dig(usage, "output_token_details", "audio_tokens"))
    cached_audio = as_int(dig(usage, "input_token_details", "cached_tokens_details", "audio_tokens"))
    if cached_audio is not None:
        # genai-prices needs the audio share of cached tokens when both are present.
        result.units["cache_audio_read_tokens"] = cached_audio
    return result


class RealtimeSession:
    """State of one Realtime session: the model and session id, fed each received text message."""

    def __init__(self, model: str | None) -> None:
        self.model = model
        self.session_id: str | None = None
        self.transcription_model: str | None = None

    def feed(self, message: str) -> SessionEvent | None:
        # Most messages are audio deltas; decode only the few event types that matter.
        leading = _LEADING_TYPE.match(message)
        if leading is not None:
            if leading.group(1) not in _WANTED:
                return None
        elif _ANY_WANTED.search(message) is None:
            return None
        try:
            event = json.loads(message)
        except ValueError:
            return None
        kind = dig(event, "type")
        if kind in ("session.created", "session.updated"):
            session = dig(event, "session")
            self.model = as_str(dig(session, "model")) or self.model
            self.session_id = as_str(dig(session, "id")) or self.session_id
            self.transcription_model = (
                as_str(dig(session, "audio", "input", "transcription", "model"))
                or as_str(dig(session, "input_audio_transcription", "model"))
                or self.transcription_model
            )
            return None
        if kind == _TRANSCRIBED:
            return self._transcription(event)
        response = dig(event, "response")
        response_id = as_str(dig(response, "id"))
        if not isinstance(response, dict) or response_id is None:
            return None
        if kind == "response.created":
            return SessionEvent(response_id)
        if kind == "response.done":
            return SessionEvent(response_id, usage_from_response(response, self.model))
        return None

    def _transcription(self, event: Any) -> SessionEvent | None:
        usage = dig(event, "usage")
        item = as_str(dig(event, "item_id"))
        if not isinstance(usage, dict) or item is None:
            return None
        result = Usage(model=self.transcription_model, response_id=item)
        if usage.get("type") == "duration":
            seconds = usage.get("seconds")
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0:
                result.units["seconds"] = seconds
            return SessionEvent(item, result, DURATION_TRANSCRIPTION)
        result.input_tokens = as_int(usage.get("input_tokens"))
        result.output_tokens = as_int(usage.get("output_tokens"))
        result.input_audio_tokens = as_int(dig(usage, "input_token_details", "audio_tokens"))
        return SessionEvent(item, result, INPUT_TRANSCRIPTION)
