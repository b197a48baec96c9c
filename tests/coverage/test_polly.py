"""AWS Polly through a real boto3 client against a local server answering the documented shapes.

https://docs.aws.amazon.com/polly/latest/dg/API_SynthesizeSpeech.html: the answer is the audio
(`Content-Type: audio/mpeg`) with `x-amzn-RequestCharacters` = characters billed.
https://docs.aws.amazon.com/polly/latest/dg/API_StartSpeechSynthesisTask.html: JSON `SynthesisTask`
with `RequestCharacters`. Prices (https://aws.amazon.com/polly/pricing/), per 1M characters:
standard $4.00, neural $16.00, long-form $100.00, generative $30.00.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from wire import On, Reply, WireServer, map_host

M = 1_000_000
AUDIO = bytes(range(256)) * 40


def _speech(req) -> Reply:
    body = req.json()
    headers = {"content-type": "audio/mpeg"}
    if body["Text"] != "no header please":
        headers["x-amzn-RequestCharacters"] = "1234"
    return Reply(200, AUDIO, headers)


def _task(req) -> Reply:
    body = req.json()
    return Reply.json(
        {
            "SynthesisTask": {
                "Engine": body.get("Engine", "standard"),
                "TaskId": "task-1",
                "TaskStatus": "scheduled",
                "OutputUri": "https://s3.us-east-1.amazonaws.com/bucket/task-1.mp3",
                "RequestCharacters": 5000,
                "OutputFormat": "mp3",
                "VoiceId": body["VoiceId"],
            }
        }
    )


@pytest.fixture(scope="module")
def client():
    routes = [On("POST", r"/v1/speech", _speech), On("POST", r"/v1/synthesisTasks", _task)]
    with WireServer(routes) as server:
        map_host(server, "polly")
        yield boto3.client(
            "polly",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test-secret",
            config=Config(retries={"max_attempts": 1}),
        )


@pytest.mark.provider("polly")
@pytest.mark.parametrize(
    ("engine", "per_million"),
    [("standard", 4.00), ("neural", 16.00), ("generative", 30.00), ("long-form", 100.00)],
)
def test_synthesize_speech_characters_from_header(client, spans, engine, per_million):
    response = client.synthesize_speech(
        Text="Hello from Polly", OutputFormat="mp3", VoiceId="Joanna", Engine=engine
    )
    assert response["AudioStream"].read() == AUDIO  # the audio, byte for byte
    assert response["RequestCharacters"] == 1234
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "polly"
    assert attrs["llmobserve.operation"] == "tts"
    assert attrs["gen_ai.request.model"] == engine
    assert attrs["llmobserve.usage.characters"] == 1234  # the header's count, over the request's 16
    # 1234 characters * $per_million / 1M
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1234 * per_million / M, abs=1e-12)


@pytest.mark.provider("polly")
def test_default_engine_is_standard_and_request_text_counts_without_header(client, spans):
    client.synthesize_speech(Text="no header please", OutputFormat="mp3", VoiceId="Joanna")[
        "AudioStream"
    ].read()
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "standard"
    assert attrs["llmobserve.usage.characters"] == len("no header please") == 16
    assert attrs["llmobserve.cost.usd"] == pytest.approx(16 * 4.00 / M, abs=1e-15)


@pytest.mark.provider("polly")
def test_start_speech_synthesis_task(client, spans):
    task = client.start_speech_synthesis_task(
        Text="x" * 5000, OutputFormat="mp3", VoiceId="Joanna", Engine="neural", OutputS3BucketName="bucket"
    )
    assert task["SynthesisTask"]["RequestCharacters"] == 5000
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "tts_task"
    assert attrs["llmobserve.usage.characters"] == 5000
    # 5000 * $16 / 1M = $0.08
    assert attrs["llmobserve.cost.usd"] == pytest.approx(5000 * 16.00 / M, abs=1e-12)
