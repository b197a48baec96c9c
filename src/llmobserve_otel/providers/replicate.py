"""Replicate: predictions at `api.replicate.com/v1`, billed per second of prediction time (or, for
official models, per output).

Wire format: https://replicate.com/docs/reference/http — a prediction JSON whose `metrics` appear
once it reaches a terminal status: `predict_time` (seconds billed; unit `seconds`), and for
official models `image_count` (unit `images`) or token counts. A prediction is answered by the
create call (`Prefer: wait`) or by the polls `GET /v1/predictions/{id}`; only a terminal answer
carries metrics, so a normal run is counted once. An app that fetches a finished prediction again
records it again: each fetch is a span with the same metrics.

The JSON does not name the hardware a model runs on, so per-second prices are per model: official
models in `pricing/data/replicate.toml`, your own and community models in `LLMOBSERVE_PRICING_FILE`
(`model = "owner/name"`, `rates = { seconds = ... }` from https://replicate.com/pricing).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_int, as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "replicate"
HOSTS = ("api.replicate.com",)
TRANSPORTS = ("https",)
SDK = "replicate"
COVERAGE_NOTE = (
    "per-second prices depend on hardware the prediction does not name: official models in our data, "
    "others per model in LLMOBSERVE_PRICING_FILE (rates from replicate.com/pricing)"
)

PREDICTION = Route("prediction")
POLL = Route("prediction_status")
TERMINAL = frozenset({"succeeded", "failed", "canceled"})

_CREATE = re.compile(r"/v1/(?:predictions|(?:models|deployments)/(?P<model>[^/]+/[^/]+)/predictions)/?$")
_POLL = re.compile(r"/v1/predictions/[^/]+/?$")


def match(method: str, path: str) -> Route | None:
    if method == "POST":
        found = _CREATE.search(path)
        if found is None:
            return None
        return Route(PREDICTION.operation, model=found["model"]) if found["model"] else PREDICTION
    if method == "GET" and _POLL.search(path):
        return POLL
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": route.model, "stream": dig(body, "stream") is True}


def _count(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict) or body.get("status") not in TERMINAL:
        return None  # still starting or processing: a later poll carries the metrics
    metrics = body.get("metrics")
    if not isinstance(metrics, dict):
        return None
    usage = Usage(
        input_tokens=as_int(metrics.get("input_token_count")),
        output_tokens=as_int(metrics.get("output_token_count")),
        model=as_str(body.get("model")),
        response_id=as_str(body.get("id")),
        finish_reasons=[body["status"]],
    )
    for unit, key in (("seconds", "predict_time"), ("images", "image_count")):
        if (amount := _count(metrics.get(key))) is not None:
            usage.units[unit] = amount
    return usage
