"""Stability AI: Stable Image generation (REST v2beta), billed in credits per generated image.

Wire format: https://platform.stability.ai/docs/api-reference — POST multipart/form-data to
`/v2beta/stable-image/generate/{core,ultra,sd3}`; a 200 answer is one image (raw bytes with
`accept: image/*`, or JSON `{"image", "finish_reason", "seed"}`). The price depends on the service,
and for `sd3` on the form field `model` (default `sd3.5-large`), read from the multipart body's text
fields (the capture decodes them; file parts are skipped). When a transport cannot show the body,
an `sd3` call has no known model and stays unpriced (Core and Ultra are known from the path).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "stability"
HOSTS = ("api.stability.ai",)
TRANSPORTS = ("https",)
SDK = None  # no Python SDK for the v2beta REST API (stability-sdk is the retired gRPC v1): raw HTTP
COVERAGE_NOTE = "Stable Image generate (core, ultra, sd3) only; edit, upscale, control and 3D/audio endpoints not covered; no REST SDK exists"

SD3_DEFAULT_MODEL = "sd3.5-large"
ROUTES: dict[str, Route] = {
    "core": Route("image_generation", kind="image", model="stable-image-core"),
    "ultra": Route("image_generation", kind="image", model="stable-image-ultra"),
    "sd3": Route("image_generation", kind="image"),
}
_GENERATE = re.compile(r"/v2beta/stable-image/generate/(core|ultra|sd3)/?")


def match(method: str, path: str) -> Route | None:
    found = _GENERATE.fullmatch(path) if method == "POST" else None
    return ROUTES[found.group(1)] if found else None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"units": {"images": 1}}  # one image per successful call
    if route is ROUTES["sd3"] and isinstance(body, dict):
        info["model"] = as_str(body.get("model")) or SD3_DEFAULT_MODEL
    return info


def parse_json(route: Route, body: Any) -> Usage | None:
    reason = as_str(dig(body, "finish_reason"))
    return Usage(finish_reasons=[reason]) if reason else None
