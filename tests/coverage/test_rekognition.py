"""AWS Rekognition Image through a real boto3 client (AWS JSON 1.1: `POST /` + `X-Amz-Target`).

Response shapes: https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html,
API_DetectFaces.html, API_CompareFaces.html. Price (https://aws.amazon.com/rekognition/pricing/):
$0.001 per image for the first 1M images a month, Group 1 and Group 2 APIs alike; one image per call.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from wire import On, Reply, WireServer, map_host

ANSWERS = {
    "RekognitionService.DetectLabels": {
        "Labels": [{"Name": "Dog", "Confidence": 99.2, "Instances": [], "Parents": [{"Name": "Animal"}]}],
        "LabelModelVersion": "3.0",
    },
    "RekognitionService.DetectFaces": {
        "FaceDetails": [
            {"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}, "Confidence": 99.9}
        ]
    },
    "RekognitionService.CompareFaces": {
        "SourceImageFace": {"Confidence": 99.0},
        "FaceMatches": [{"Similarity": 98.5, "Face": {"Confidence": 99.1}}],
        "UnmatchedFaces": [],
    },
    "RekognitionService.ListCollections": {"CollectionIds": ["faces"], "FaceModelVersions": ["6.0"]},
}


def _answer(req) -> Reply:
    target = req.headers["x-amz-target"]
    if target == "RekognitionService.DetectText":
        return Reply.json({"__type": "InvalidImageFormatException", "message": "bad image"}, 400)
    return Reply(
        200,
        __import__("json").dumps(ANSWERS[target]).encode(),
        {"content-type": "application/x-amz-json-1.1"},
    )


@pytest.fixture(scope="module")
def server():
    with WireServer([On("POST", r"/", _answer)]) as server:
        map_host(server, "rekognition")
        yield server


@pytest.fixture
def client(server):
    return boto3.client(
        "rekognition",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1}),
    )


IMAGE = {"Bytes": b"\xff\xd8\xff\xe0fake-jpeg"}


@pytest.mark.provider("rekognition")
@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda c: c.detect_labels(Image=IMAGE, MaxLabels=5), "DetectLabels"),
        (lambda c: c.detect_faces(Image=IMAGE), "DetectFaces"),
        (lambda c: c.compare_faces(SourceImage=IMAGE, TargetImage=IMAGE), "CompareFaces"),
    ],
)
def test_one_image_per_call(client, server, spans, call, operation):
    result = call(client)
    assert result[next(iter(ANSWERS[f"RekognitionService.{operation}"]))]  # the SDK parsed the answer
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "rekognition"
    assert attrs["llmobserve.operation"] == operation
    assert attrs["llmobserve.usage.images"] == 1
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1 * 0.001, abs=1e-12)  # 1 image * $0.001
    sent = server.requests[-1].headers
    assert sent["x-amz-target"] == f"RekognitionService.{operation}"
    assert "traceparent" not in sent and "baggage" not in sent


@pytest.mark.provider("rekognition")
def test_unbilled_operation_has_no_span(client, spans):
    assert client.list_collections()["CollectionIds"] == ["faces"]
    assert spans.all() == []


@pytest.mark.provider("rekognition")
def test_refused_image_is_not_billed(client, spans):
    with pytest.raises(client.exceptions.InvalidImageFormatException):
        client.detect_text(Image=IMAGE)
    span = spans.provider_calls()[0]
    assert span.status.status_code.name == "ERROR"
    assert "llmobserve.usage.images" not in span.attributes
    assert "llmobserve.cost.usd" not in span.attributes
