"""AWS Transcribe batch jobs through a real boto3 client (AWS JSON 1.1, `X-Amz-Target: Transcribe.*`).

Shapes: https://docs.aws.amazon.com/transcribe/latest/APIReference/API_StartTranscriptionJob.html and
API_GetTranscriptionJob.html (`TranscriptionJob` with `TranscriptionJobStatus`; no audio duration).
Billing choice (providers/transcribe.py): a job counts once, when a poll first sees it COMPLETED;
starting it costs nothing; the per-second price ($0.024/min, https://aws.amazon.com/transcribe/pricing/)
cannot apply without the audio length, which the API does not return, so the span says so.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from wire import On, Reply, WireServer, map_host

_jobs: dict[str, int] = {}


def _job(name: str, status: str) -> dict:
    job = {
        "TranscriptionJobName": name,
        "TranscriptionJobStatus": status,
        "LanguageCode": "en-US",
        "MediaFormat": "mp3",
        "Media": {"MediaFileUri": "s3://bucket/call.mp3"},
        "CreationTime": 1764115200.0,
        "StartTime": 1764115201.0,
    }
    if status == "COMPLETED":
        job["MediaSampleRateHertz"] = 44100
        job["CompletionTime"] = 1764115260.0
        job["Transcript"] = {
            "TranscriptFileUri": f"https://s3.us-east-1.amazonaws.com/aws-transcribe-us-east-1-prod/{name}.json"
        }
    return {"TranscriptionJob": job}


def _answer(req) -> Reply:
    target = req.headers["x-amz-target"]
    name = req.json()["TranscriptionJobName"]
    if target == "Transcribe.StartTranscriptionJob":
        _jobs[name] = 0
        payload = _job(name, "IN_PROGRESS")
    else:  # GetTranscriptionJob: in progress on the first poll, completed after
        _jobs[name] += 1
        payload = _job(name, "IN_PROGRESS" if _jobs[name] == 1 else "COMPLETED")
    return Reply(200, json.dumps(payload).encode(), {"content-type": "application/x-amz-json-1.1"})


@pytest.fixture(scope="module")
def client():
    with WireServer([On("POST", r"/", _answer)]) as server:
        map_host(server, "transcribe")
        yield boto3.client(
            "transcribe",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test-secret",
            config=Config(retries={"max_attempts": 1}),
        )


@pytest.mark.provider("transcribe")
def test_job_counted_once_when_completed(client, spans):
    client.start_transcription_job(
        TranscriptionJobName="job-a", LanguageCode="en-US", Media={"MediaFileUri": "s3://bucket/call.mp3"}
    )
    start = spans.one_call()
    assert start["llmobserve.operation"] == "transcription_job_start"
    assert start["llmobserve.cost.usd"] == 0  # starting a job is free
    statuses = [
        client.get_transcription_job(TranscriptionJobName="job-a")["TranscriptionJob"][
            "TranscriptionJobStatus"
        ]
        for _ in range(3)
    ]
    assert statuses == ["IN_PROGRESS", "COMPLETED", "COMPLETED"]
    polls = [dict(s.attributes) for s in spans.provider_calls()][1:]
    assert [p["llmobserve.usage.jobs"] for p in polls] == [0, 1, 0]  # billed on the first COMPLETED only
    completed = polls[1]
    assert completed["gen_ai.response.id"] == "job-a"
    # no audio duration in the documented answer: no invented cost, and the reason is on the span
    assert "llmobserve.cost.usd" not in completed
    assert completed["llmobserve.cost.status"] == "no_usage"
    assert "seconds" in completed["llmobserve.cost.reason"]


@pytest.mark.provider("transcribe")
def test_user_per_job_rate_prices_completed_jobs(client, spans, user_prices):
    user_prices(
        '[[prices]]\nprovider = "transcribe"\noperation = "transcription"\nsince = 2020-01-01\n'
        'source = "negotiated"\nrates = { jobs = "0.72" }\n'
    )
    client.start_transcription_job(
        TranscriptionJobName="job-b", LanguageCode="en-US", Media={"MediaFileUri": "s3://bucket/b.mp3"}
    )
    client.get_transcription_job(TranscriptionJobName="job-b")
    client.get_transcription_job(TranscriptionJobName="job-b")
    completed = dict(spans.provider_calls()[-1].attributes)
    assert completed["llmobserve.usage.jobs"] == 1
    assert completed["llmobserve.cost.usd"] == pytest.approx(0.72)  # 1 job * $0.72 (the user's rate)
