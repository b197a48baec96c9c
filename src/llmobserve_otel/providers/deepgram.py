"""Deepgram: pre-recorded speech-to-text (`/v1/listen`), billed per minute of audio by model.

Wire format: https://developers.deepgram.com/reference/speech-to-text/listen-pre-recorded — the
JSON answer's `metadata.duration` is the audio length in seconds, `metadata.channels` the number
of channels transcribed (more than 1 only with `multichannel=true`, which Deepgram bills per
channel), and `metadata.model_info[<id>].arch` the model (`nova-3`). The model is also a query
parameter, which the capture does not read (query strings may carry keys), so it comes from the
response. Usage is recorded in seconds (exact) and priced per minute.

Live transcription (https://developers.deepgram.com/reference/speech-to-text/listen-streaming) runs
over a WebSocket to the same path: `Results` messages stream in, and when the client closes the
stream the server sends one `Metadata` message with the session's total `duration` and `channels`,
which is what is billed (one span per stream, from the first `Results` to `Metadata`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, SessionEvent, Usage

NAME = "deepgram"
HOSTS = ("api.deepgram.com", "api.eu.deepgram.com")
TRANSPORTS = ("https", "websocket")
SDK = "deepgram-sdk"
COVERAGE_NOTE = "pre-recorded and live (WebSocket) speech-to-text, Nova-3 monolingual rates (the response does not say multilingual); text-to-speech (/v1/speak) not covered"

TRANSCRIPTION = Route("transcription", kind="speech")
LIVE_TRANSCRIPTION = Route("live_transcription", kind="speech")


def match(method: str, path: str) -> Route | None:
    if method == "POST" and path.rstrip("/").endswith("/v1/listen"):
        return TRANSCRIPTION
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}  # the body is audio, or `{"url": ...}`


def _model(metadata: dict[str, Any]) -> str | None:
    info = metadata.get("model_info")
    models = metadata.get("models")
    if not isinstance(info, dict) or not isinstance(models, list) or not models:
        return None
    first = info.get(models[0]) if isinstance(models[0], str) else None
    return as_str(dig(first, "arch")) or as_str(dig(first, "name"))


def parse_json(route: Route, body: Any) -> Usage | None:
    metadata = dig(body, "metadata")
    return _usage(metadata) if isinstance(metadata, dict) else None


def _usage(metadata: dict[str, Any]) -> Usage:
    usage = Usage(model=_model(metadata), response_id=as_str(metadata.get("request_id")))
    duration = metadata.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration >= 0:
        usage.units["seconds"] = duration * (as_int(metadata.get("channels")) or 1)
    return usage


def new_ws_session(path: str, params: dict[str, str]) -> LiveSession | None:
    return LiveSession(params.get("model")) if path.rstrip("/").endswith("/v1/listen") else None


_LEADING_TYPE = re.compile(r'\s*\{\s*"type"\s*:\s*"([^"]*)"')


class LiveSession:
    """One live-transcription stream: started by the first `Results`, billed by the final `Metadata`."""

    route = LIVE_TRANSCRIPTION

    def __init__(self, model: str | None) -> None:
        self.model = model
        self._request_id: str | None = None

    def feed(self, message: str) -> SessionEvent | None:
        leading = _LEADING_TYPE.match(message)
        if leading is not None and leading.group(1) not in ("Results", "Metadata"):
            return None
        if leading is not None and leading.group(1) == "Results" and self._request_id is not None:
            return None  # only the first Results matters (it starts the span)
        try:
            event = json.loads(message)
        except ValueError:
            return None
        kind = dig(event, "type")
        if kind == "Results" and self._request_id is None:
            self._request_id = as_str(dig(event, "metadata", "request_id"))
            self.model = as_str(dig(event, "metadata", "model_info", "arch")) or self.model
            return SessionEvent(self._request_id) if self._request_id else None
        if kind == "Metadata" and isinstance(event, dict):
            usage = _usage(event)
            usage.model = usage.model or self.model
            return SessionEvent(usage.response_id or self._request_id or "", usage)
        return None
