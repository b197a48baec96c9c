"""AssemblyAI: pre-recorded transcription, billed per second of audio on the completed transcript.

Wire format: https://www.assemblyai.com/docs/api-reference/transcripts — POST `/v2/transcript`
answers `{"id", "status": "queued"}`; the transcript is then read with GET `/v2/transcript/{id}`
(the SDK polls it) until `status` is `completed`, when `audio_duration` (seconds) is set. AssemblyAI
bills only completed transcripts ("credits are deducted only after a successful transcription
completes", https://assemblyai.com/docs/billing-and-pricing), pro-rated to the second. So the usage
lands on the call that first reads the completed transcript, once per transcript id: the earlier
polls and any later re-read of the same transcript carry no usage (and no cost).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._once import BilledOnce
from llmobserve_otel.providers._types import Route, Usage

NAME = "assemblyai"
HOSTS = ("api.assemblyai.com", "api.eu.assemblyai.com")
TRANSPORTS = ("https",)
SDK = "assemblyai"

TRANSCRIPTION = Route("transcription", kind="speech")
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
