"""AWS Rekognition Image (through botocore): one billed image per image-analysis call.

Wire format: AWS JSON 1.1 — every operation is `POST /` with `X-Amz-Target:
RekognitionService.<Operation>` (https://docs.aws.amazon.com/rekognition/latest/APIReference/).
Pricing (https://aws.amazon.com/rekognition/pricing/) bills each image an API processes as one
image, in two API groups; running several APIs on one image counts several images. A call that
fails (HTTP >= 400) is not billed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers import _aws
from llmobserve_otel.providers._types import Route, Usage

NAME = "rekognition"
HOSTS = _aws.hosts("rekognition")
TRANSPORTS = ("https",)
SDK = "boto3"
COVERAGE_NOTE = "AWS JSON 1.1: operation from `X-Amz-Target` (`match_request`); first-tier price, volume tiers not modeled"

_TARGET_PREFIX = "RekognitionService"
# Operation -> pricing group (Group 1: face storage/search; Group 2: detection), one image each.
IMAGE_OPERATIONS: Mapping[str, str] = {
    "CompareFaces": "group1",
    "IndexFaces": "group1",
    "SearchFacesByImage": "group1",
    "SearchFaces": "group1",
    "SearchUsersByImage": "group1",
    "DetectFaces": "group2",
    "DetectLabels": "group2",
    "DetectModerationLabels": "group2",
    "DetectText": "group2",
    "RecognizeCelebrities": "group2",
    "DetectProtectiveEquipment": "group2",
}
_ROUTES = {operation: Route(operation, kind="image") for operation in IMAGE_OPERATIONS}


def match(method: str, path: str) -> Route | None:
    return None  # the operation is in `X-Amz-Target`: see match_request


def match_request(method: str, path: str, headers: Mapping[str, str]) -> Route | None:
    return _aws.target_route(method, headers, _TARGET_PREFIX, _ROUTES)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"units": {"images": 1}}


def parse_json(route: Route, body: Any) -> Usage | None:
    return None  # the answer holds labels/faces, not usage: the image count comes from the request
