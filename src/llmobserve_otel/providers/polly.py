"""AWS Polly (through botocore): SynthesizeSpeech and StartSpeechSynthesisTask, billed per character by engine.

Wire format: https://docs.aws.amazon.com/polly/latest/dg/API_SynthesizeSpeech.html — REST JSON
`POST /v1/speech` with `Text`, `TextType` (`text`/`ssml`) and `Engine` (`standard` when omitted);
the answer is the audio itself, with the billed count in the `x-amzn-RequestCharacters` header.
Without that header the request's text length is used (SSML tags removed: Polly does not bill
them). `POST /v1/synthesisTasks` answers JSON whose `SynthesisTask.RequestCharacters` is billed.
The engine is the call's model (`gen_ai.request.model`): standard, neural, long-form and
generative voices have different per-character prices (pricing/data/polly.toml).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers import _aws
from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "polly"
HOSTS = _aws.hosts("polly")
TRANSPORTS = ("https",)
SDK = "boto3"
COVERAGE_NOTE = "engine (standard, neural, long-form, generative) is the priced model"

SPEECH = Route("tts", kind="speech")
TASK = Route("tts_task", kind="speech")
_ROUTES = {"/v1/speech": SPEECH, "/v1/synthesisTasks": TASK}
_TAG = re.compile(r"<[^>]*>")
DEFAULT_ENGINE = "standard"  # the API default when `Engine` is omitted


def match(method: str, path: str) -> Route | None:
    return _ROUTES.get(path.rstrip("/")) if method == "POST" else None


def _characters(body: dict[str, Any]) -> int | None:
    text = body.get("Text")
    if not isinstance(text, str):
        return None
    if body.get("TextType") == "ssml":
        text = _TAG.sub("", text)
    return len(text)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    info: dict[str, Any] = {"model": as_str(body.get("Engine")) or DEFAULT_ENGINE}
    if route is SPEECH and (characters := _characters(body)) is not None:
        info["units"] = {"characters": characters}
    return info


def parse_headers(route: Route, headers: Mapping[str, str]) -> dict[str, float]:
    value = headers.get("x-amzn-requestcharacters")
    try:
        return {"characters": int(value)} if value is not None else {}
    except ValueError:
        return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    task = dig(body, "SynthesisTask")
    characters = as_int(dig(task, "RequestCharacters"))
    if characters is None:
        return None  # speech marks (JSON lines) or an unknown shape: the header / request count stands
    return Usage(
        model=as_str(dig(task, "Engine")),
        response_id=as_str(dig(task, "TaskId")),
        units={"characters": characters},
    )
