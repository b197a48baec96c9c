"""Celery with no propagation code of the user's: a task enqueued under a customer and a section makes an
OpenAI call in a real worker, and the worker's provider span carries both, in the producer's trace.

The worker is Celery's own test worker (`celery.contrib.testing.worker.start_worker`) running in a
thread of this process, with the in-memory transport. Threads do not share OTel context, so the
customer and section reach the task only through the message headers that the stock Celery
instrumentation (installed by `observe()` when celery is imported) writes and reads.

Expected cost from OpenAI's published prices (https://openai.com/api/pricing): gpt-4o $2.50 per
million input tokens, $10.00 per million output tokens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import openai
import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from opentelemetry import trace

import llmobserve_otel as lo

M = 1_000_000
# 300 input * $2.50 + 100 output * $10, per million
EXPECTED_COST = (300 * 2.50 + 100 * 10.00) / M

app = Celery("llmobserve_celery_test", broker="memory://", backend="cache+memory://")
app.conf.update(
    task_default_queue="llmobserve-test",
    worker_hijack_root_logger=False,
    broker_transport_options={"polling_interval": 0.05},  # the memory transport polls; keep it quick
)


@app.task(name="llmobserve_test.summarise")
def summarise(base_url: str) -> dict:
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-test", max_retries=0)
    result = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarise the ticket."}],
        extra_headers={"x-sim-usage": json.dumps({"input_tokens": 300, "output_tokens": 100})},
    )
    return {
        "tokens": result.usage.total_tokens,
        "customer_in_task": lo.current_customer_id(),
        "section_in_task": lo.current_section_path(),
    }


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield


def _wait_for(spans, predicate, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in spans.all() if predicate(s)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_hand_computed_cost():
    assert pytest.approx(0.00175) == EXPECTED_COST


def test_customer_and_section_reach_the_worker(worker, spans, sim):
    with lo.customer("acme"), lo.section("agent:x"):
        trace_id = trace.get_current_span().get_span_context().trace_id
        async_result = summarise.delay(sim.url)
    # Outside the blocks: the worker cannot be reading them from this thread's context.
    assert lo.current_customer_id() is None
    assert async_result.get(timeout=20, interval=0.02) == {
        "tokens": 400,
        "customer_in_task": "acme",
        "section_in_task": "agent:x",
    }

    (call,) = _wait_for(spans, lambda s: (s.attributes or {}).get("llmobserve.capture") == "wire")
    attrs = dict(call.attributes)
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "agent:x"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(EXPECTED_COST, abs=1e-12)
    assert attrs["llmobserve.cost.source"] == "sdk"
    assert call.context.trace_id == trace_id

    # The chain: section -> apply_async (producer) -> run (consumer, in the worker) -> provider call.
    (run,) = _wait_for(spans, lambda s: s.name == "run/llmobserve_test.summarise")
    (publish,) = spans.named("apply_async/llmobserve_test.summarise")
    (section,) = spans.named("agent:x")
    assert call.parent.span_id == run.context.span_id
    assert run.parent.span_id == publish.context.span_id
    assert publish.parent.span_id == section.context.span_id
    assert {run.context.trace_id, publish.context.trace_id, section.context.trace_id} == {trace_id}
    assert run.attributes["llmobserve.customer.id"] == "acme"
    assert run.attributes["llmobserve.section.path"] == "agent:x"

    # Baggage went to the worker through the message, never to the provider.
    sent = sim.requests[-1].headers
    assert "baggage" not in sent and "traceparent" not in sent
    assert "acme" not in json.dumps(sent)


def test_tasks_of_different_customers_stay_apart(worker, spans, sim):
    results = []
    for customer in ("acme", "globex", "initech"):
        with lo.customer(customer), lo.section(f"agent:{customer}"):
            results.append(summarise.delay(sim.url))
    assert [r.get(timeout=20, interval=0.02)["customer_in_task"] for r in results] == ["acme", "globex", "initech"]
    calls = _wait_for(spans, lambda s: (s.attributes or {}).get("llmobserve.capture") == "wire")
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
        calls = [s for s in spans.all() if (s.attributes or {}).get("llmobserve.capture") == "wire"]
    assert sorted(
        (s.attributes["llmobserve.customer.id"], s.attributes["llmobserve.section.path"]) for s in calls
    ) == [("acme", "agent:acme"), ("globex", "agent:globex"), ("initech", "agent:initech")]
