"""Runway: video (and image) generation tasks, billed in credits from the finished task.

Wire format: https://docs.dev.runwayml.com/api/ — POST `/v1/image_to_video` (and `text_to_video`,
`video_to_video`, `text_to_image`, ...) creates a task and answers `{"id", "estimatedCost":
{"credits"}}`, the most the task may charge; GET `/v1/tasks/{id}` (the SDK's
`wait_for_task_output` polls it) reports, once the task is terminal (SUCCEEDED, FAILED, CANCELLED),
`cost.credits`: what was finally charged, refunds included. The call is billed there, once per task
id, rather than at creation from the requested duration: the final figure is exact for every model
and reflects refunds of failed or cancelled tasks. The creation span carries the estimate as
`llmobserve.usage.estimated_credits` (not priced).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._once import BilledOnce
from llmobserve_otel.providers._types import Route, Usage

NAME = "runway"
HOSTS = ("api.dev.runwayml.com",)
TRANSPORTS = ("https",)
SDK = "runwayml"
COVERAGE_NOTE = "billed from the finished task's `cost.credits` (refunds included), once per task; the creation span carries the estimate unpriced"

CREATE = Route("generation", kind="video")
TASK = Route("generation", kind="video")
_CREATE_PATH = re.compile(r"/v1/[a-z_]+_to_[a-z_]+/?")  # image_to_video, text_to_image, video_to_video, ...
_TASK_PATH = re.compile(r"/v1/tasks/[A-Za-z0-9-]+/?")
_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_billed = BilledOnce()


def match(method: str, path: str) -> Route | None:
    if method == "POST" and _CREATE_PATH.fullmatch(path):
        return CREATE
    if method == "GET" and _TASK_PATH.fullmatch(path):
        return TASK
    return None


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {"model": as_str(dig(body, "model"))}


def _credits(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    task_id = as_str(body.get("id"))
    usage = Usage(response_id=task_id)
    if route is CREATE:
        estimate = _credits(dig(body, "estimatedCost", "credits"))
        if estimate is not None:
            usage.units["estimated_credits"] = estimate
        return usage
    status = as_str(body.get("status"))
    usage.finish_reasons = [status] if status else []
    charged = _credits(dig(body, "cost", "credits"))
    if status in _TERMINAL and charged is not None and task_id is not None and _billed.first(task_id):
        usage.units["credits"] = charged
    return usage
