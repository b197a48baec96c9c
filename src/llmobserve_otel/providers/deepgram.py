"""Deepgram: pre-recorded speech-to-text (`/v1/listen`), billed per minute of audio by model.

Wire format: https://developers.deepgram.com/reference/speech-to-text/listen-pre-recorded — the
JSON answer's `metadata.duration` is the audio length in seconds, `metadata.channels` the number
of channels transcribed (more than 1 only with `multichannel=true`, which Deepgram bills per
channel), and `metadata.model_info[<id>].arch` the model (`nova-3`). The model is also a query
parameter, which the capture does not read (query strings may carry keys), so it comes from the
response. Usage is recorded in seconds (exact) and priced per minute.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "deepgram"
HOSTS = ("api.deepgram.com", "api.eu.deepgram.com")
TRANSPORTS = ("https",)
SDK = "deepgram-sdk"

TRANSCRIPTION = Route("transcription", kind="speech")


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
    if not isinstance(metadata, dict):
        return None
    usage = Usage(model=_model(metadata), response_id=as_str(metadata.get("request_id")))
    duration = metadata.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration >= 0:
        usage.units["seconds"] = duration * (as_int(metadata.get("channels")) or 1)
    return usage
