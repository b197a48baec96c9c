"""Runway image-to-video through the real `runwayml` SDK: create the task, wait for its output.

Price (https://docs.dev.runwayml.com/guides/pricing/): $0.01 per credit; gen4_turbo uses 5 credits
per second of output, so a 10 s video is 50 credits = $0.50. The finished task reports the credits
charged (`cost.credits`), which is what is billed, once per task.
"""

from __future__ import annotations

import itertools

import pytest
import runwayml
import runwayml.lib.polling as polling
from wire import On, Reply, WireServer, map_host

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(polling, "POLL_TIME", 0.01)
    monkeypatch.setattr(polling, "POLL_JITTER", 0.0)


def _server(final: dict, polls_before_done: int = 1) -> tuple[WireServer, str]:
    task_id = f"00000000-0000-4000-8000-{next(_ids):012d}"
    state = {"polls": 0}
    created = "2026-11-26T12:00:00.000Z"

    def create(request):
        return Reply.json({"id": task_id, "estimatedCost": {"credits": 50}})

    def task(request):
        state["polls"] += 1
        if state["polls"] <= polls_before_done:
            return Reply.json(
                {
                    "id": task_id,
                    "status": "RUNNING",
                    "createdAt": created,
                    "progress": 0.5,
                    "estimatedCost": {"credits": 50},
                }
            )
        return Reply.json({"id": task_id, "createdAt": created, **final})

    routes = [On("POST", r"/v1/image_to_video", create), On("GET", rf"/v1/tasks/{task_id}", task)]
    return WireServer(routes), task_id


def _create(server: WireServer):
    client = runwayml.RunwayML(api_key="rw-test-key", base_url=server.url, max_retries=0)
    return client.image_to_video.create(
        model="gen4_turbo", prompt_image="https://example.com/first.png", ratio="1280:720", duration=10
    )


@pytest.mark.provider("runway")
def test_image_to_video_billed_from_the_succeeded_task(spans):
    server, task_id = _server(
        {"status": "SUCCEEDED", "output": ["https://cdn.example/v.mp4"], "cost": {"credits": 50}}
    )
    with server:
        map_host(server, "runway")
        task = _create(server).wait_for_task_output()
        client = runwayml.RunwayML(api_key="rw-test-key", base_url=server.url, max_retries=0)
        client.tasks.retrieve(task_id)  # a re-read of the finished task is not billed again
    assert task.status == "SUCCEEDED" and task.output == ["https://cdn.example/v.mp4"]
    calls = [dict(s.attributes) for s in spans.provider_calls()]
    assert [c["http.request.method"] for c in calls] == ["POST", "GET", "GET", "GET"]
    create, running, succeeded, reread = calls
    assert create["llmobserve.usage.estimated_credits"] == 50
    assert create["gen_ai.response.id"] == task_id
    assert [c for c in calls if "llmobserve.cost.usd" in c] == [succeeded]
    assert succeeded["llmobserve.provider"] == "runway"
    assert succeeded["llmobserve.operation"] == "generation"
    assert succeeded["llmobserve.usage.credits"] == 50
    # gen4_turbo: 10 s x 5 credits/s = 50 credits x $0.01
    assert succeeded["llmobserve.cost.usd"] == pytest.approx(10 * 5 * 0.01, abs=1e-12)  # $0.50
    assert "llmobserve.usage.credits" not in running and "llmobserve.usage.credits" not in reread
    assert "rw-test-key" not in repr(calls)


@pytest.mark.provider("runway")
def test_failed_task_refund_is_reflected(spans):
    server, _ = _server(
        {"status": "FAILED", "failure": "moderation", "failureCode": "SAFETY.INPUT", "cost": {"credits": 0}}
    )
    with server:
        map_host(server, "runway")
        with pytest.raises(runwayml.TaskFailedError):
            _create(server).wait_for_task_output()
    calls = [dict(s.attributes) for s in spans.provider_calls()]
    failed = calls[-1]
    assert failed["llmobserve.usage.credits"] == 0
    assert failed["llmobserve.cost.usd"] == 0.0


@pytest.mark.provider("runway")
def test_create_error_is_not_billed(spans):
    routes = [On("POST", r"/v1/image_to_video", lambda r: Reply.json({"error": "Invalid ratio"}, 400))]
    with WireServer(routes) as server:
        map_host(server, "runway")
        with pytest.raises(runwayml.BadRequestError):
            _create(server)
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 400
    assert "llmobserve.cost.usd" not in attrs
