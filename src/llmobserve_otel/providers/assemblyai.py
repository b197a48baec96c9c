"""AssemblyAI: pre-recorded transcription, billed per second of audio on the completed transcript.

Wire format: https://www.assemblyai.com/docs/api-reference/transcripts — POST `/v2/transcript`
answers `{"id", "status": "queued"}`; the transcript is then read with GET `/v2/transcript/{id}`
(the SDK polls it) until `status` is `completed`, when `audio_duration` (seconds) is set. AssemblyAI
bills only completed transcripts ("credits are deducted only after a successful transcription
completes", https://assemblyai.com/docs/billing-and-pricing), pro-rated to the second. So the usage
lands on the call that first reads the completed transcript, once per transcript id: the earlier
polls and any later re-read of the same transcript carry no usage (and no cost).

Streaming (https://www.assemblyai.com/docs/faq/how-does-universal-streaming-session-based-pricing-work)
runs over a WebSocket to `wss://streaming.assemblyai.com/v3/ws?speech_model=...`; it is billed on
the session's duration (the whole time the connection is open, idle included), which the server
reports in the final `Termination` message (`session_duration_seconds`, beside
`audio_duration_seconds`): one span per session, from `Begin` to `Termination`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._once import BilledOnce
from llmobserve_otel.providers._types import Route, SessionEvent, Usage

NAME = "assemblyai"
HOSTS = (
    "api.assemblyai.com",
    "api.eu.assemblyai.com",
    "streaming.assemblyai.com",
    "streaming.eu.assemblyai.com",
)
TRANSPORTS = ("https", "websocket")
SDK = "assemblyai"
COVERAGE_NOTE = "pre-recorded billed once per transcript on the completed read (polls carry no usage); streaming v3 billed on session duration; add-on features (diarization, ...) not priced; Universal-Streaming models have no cited rate"

TRANSCRIPTION = Route("transcription", kind="speech")
LIVE_TRANSCRIPTION = Route("live_transcription", kind="speech")
_TRANSCRIPT = re.compile(r"/v2/transcript(?:/[A-Za-z0-9_-]+)?/?")


def match(method: str, path: str) -> Route | None:
    if method in ("POST", "GET") and _TRANSCRIPT.fullmatch(path):
        return TRANSCRIPTION
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    models = dig(body, "speech_models")
    first = models[0] if isinstance(models, list) and models else None
    return {"model": as_str(dig(body, "speech_model")) or as_str(first)}


_billed = BilledOnce()


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    transcript_id = as_str(body.get("id"))
    usage = Usage(
        model=as_str(body.get("speech_model_used")) or as_str(body.get("speech_model")),
        response_id=transcript_id,
        finish_reasons=[status] if (status := as_str(body.get("status"))) else [],
    )
    duration = body.get("audio_duration")
    if (
        status == "completed"
        and transcript_id is not None
        and isinstance(duration, (int, float))
        and not isinstance(duration, bool)
        and duration >= 0
        and _billed.first(transcript_id)
    ):
        usage.units["seconds"] = duration
    return usage


def new_ws_session(path: str, params: dict[str, str]) -> StreamingSession | None:
    return StreamingSession(params.get("speech_model")) if path.rstrip("/").endswith("/v3/ws") else None


class StreamingSession:
    """One streaming session: `Begin` starts the span, `Termination` bills the session duration."""

    route = LIVE_TRANSCRIPTION

    def __init__(self, model: str | None) -> None:
        self.model = model
        self._id: str | None = None

    def feed(self, message: str) -> SessionEvent | None:
        if '"Begin"' not in message and '"Termination"' not in message:
            return None  # Turn messages, most of the traffic, are not decoded
        try:
            event = json.loads(message)
        except ValueError:
            return None
        kind = dig(event, "type")
        if kind == "Begin":
            self._id = as_str(dig(event, "id"))
            return SessionEvent(self._id) if self._id else None
        if kind != "Termination":
            return None
        usage = Usage(model=self.model, response_id=self._id)
        billed = as_int(dig(event, "session_duration_seconds"))
        if billed is not None:
            usage.units["seconds"] = billed
        audio = as_int(dig(event, "audio_duration_seconds"))
        if audio is not None:
            usage.units["audio_seconds"] = audio
        return SessionEvent(self._id or "", usage)
