"""AWS Transcribe batch jobs (through botocore): billed per second of audio, when the job completes.

Wire format: AWS JSON 1.1 — `POST /` with `X-Amz-Target: Transcribe.<Operation>`
(https://docs.aws.amazon.com/transcribe/latest/APIReference/API_GetTranscriptionJob.html).
StartTranscriptionJob is asynchronous and bills nothing by itself; the job is billed once it has
run. So the job is recorded as billed the first time GetTranscriptionJob (polled by the app)
answers `TranscriptionJobStatus: COMPLETED` for its name (once per process, `_once.BilledOnce`),
and never at start (a job that fails is not billed).

The documented `TranscriptionJob` shape carries NO audio duration (only `MediaSampleRateHertz`,
`MediaFormat`, times of creation/start/completion — processing time, not audio length), and AWS
bills per second of audio (15 s minimum). So the completed job records `llmobserve.usage.jobs = 1`
and no seconds: the span carries no cost, and says why (`llmobserve.cost.status`), rather than a
guessed amount.
A user who knows the typical length can price per job in LLMOBSERVE_PRICING_FILE (`rates = { jobs
= "..." }`). The per-second rate is in pricing/data/transcribe.toml for when seconds are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers import _aws
from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._once import BilledOnce
from llmobserve_otel.providers._types import Route, Usage

NAME = "transcribe"
HOSTS = _aws.hosts("transcribe")
TRANSPORTS = ("https",)
SDK = "boto3"
COVERAGE_NOTE = "batch jobs: the API returns no audio duration, so a completed job is recorded as `jobs` (once) and priced only with a per-job rate from LLMOBSERVE_PRICING_FILE"

_TARGET_PREFIX = "Transcribe"
START = Route("transcription_job_start", kind="speech")
GET = Route("transcription", kind="speech")
_ROUTES = {"StartTranscriptionJob": START, "GetTranscriptionJob": GET}
_billed = BilledOnce()


def match(method: str, path: str) -> Route | None:
    return None  # the operation is in `X-Amz-Target`: see match_request


def match_request(method: str, path: str, headers: Mapping[str, str]) -> Route | None:
    return _aws.target_route(method, headers, _TARGET_PREFIX, _ROUTES)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    job = dig(body, "TranscriptionJob")
    name = as_str(dig(job, "TranscriptionJobName"))
    if route is START:
        return Usage(response_id=name, units={"jobs": 0}) if name else None
    if dig(job, "TranscriptionJobStatus") != "COMPLETED" or name is None:
        return Usage(response_id=name, units={"jobs": 0}) if name else None  # not (yet) billed
    if not _billed.first(name):
        return Usage(response_id=name, units={"jobs": 0})  # billed on an earlier poll
    return Usage(response_id=name, units={"jobs": 1})
