"""Celery with no propagation code of the user's: a task enqueued under a customer and a section makes an
OpenAI call in a real worker, and the worker's provider span carries both, in the producer's trace.

The worker is Celery's own test worker (`celery.contrib.testing.worker.start_worker`) running in a
thread of this process, with the in-memory transport. Threads do not share OTel context, so the
customer and section reach the task only through the message headers that the stock Celery
instrumentation (installed by `observe()` when celery is imported) writes and reads.

`test_zero_code_worker_process` does the same across processes with nothing in-process at all: a
`celery worker` (prefork pool, filesystem transport) and a producer, both under `llmobserve-otel
run`, exporting over OTLP to a receiver of this test (tests/sdk/apps/celery_app.py, celery_producer.py).

Expected cost from OpenAI's published prices (https://openai.com/api/pricing): gpt-4o $2.50 per
million input tokens, $10.00 per million output tokens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from apps.otlp_receiver import OTLPReceiver
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
    assert [r.get(timeout=20, interval=0.02)["customer_in_task"] for r in results] == [
        "acme",
        "globex",
        "initech",
    ]
    calls = _wait_for(spans, lambda s: (s.attributes or {}).get("llmobserve.capture") == "wire")
    deadline = time.monotonic() + 10
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
        calls = [s for s in spans.all() if (s.attributes or {}).get("llmobserve.capture") == "wire"]
    assert sorted(
        (s.attributes["llmobserve.customer.id"], s.attributes["llmobserve.section.path"]) for s in calls
    ) == [("acme", "agent:acme"), ("globex", "agent:globex"), ("initech", "agent:initech")]


# --- a worker process, zero-code ----------------------------------------------------------------

APPS = Path(__file__).parent / "apps"
BIN = Path(sys.executable).parent


def test_zero_code_worker_process(tmp_path, sim):
    """`llmobserve-otel run -- celery worker` (prefork pool) and a producer under `llmobserve-otel run`:
    nobody calls observe() or propagates anything, and the provider span in the worker's child
    process carries the producer's customer and section, in the producer's trace."""
    with OTLPReceiver() as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            APP_CELERY_DIR=str(tmp_path),
            APP_OPENAI_URL=sim.url,
            LLMOBSERVE_PROVIDER_HOSTS=f"{sim.host_port}=openai",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY="50",  # ms: the worker's child process exports as it goes
            PYTHONWARNINGS="ignore::DeprecationWarning",
        )
        run = [str(BIN / "llmobserve-otel"), "run"]
        worker = subprocess.Popen(
            [
                *run,
                "--service-name",
                "celery-worker",
                "--",
                "celery",
                "-A",
                "celery_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=APPS,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            producer = subprocess.run(
                [*run, "--service-name", "producer", "--", "python", "celery_producer.py"],
                cwd=APPS,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert producer.returncode == 0, producer.stderr
            assert json.loads(producer.stdout.strip().splitlines()[-1]) == {"tokens": 400}
            # The task's run span ends (and is exported) after the call's: wait for both.
            received = receiver.wait_for(
                lambda got: (
                    any(s.attributes.get("llmobserve.capture") == "wire" for s in got)
                    and any(s.name == "run/apps.summarise" for s in got)
                ),
                timeout=20,
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker_log = worker.communicate(timeout=30)[0]
            except subprocess.TimeoutExpired:
                worker.kill()
                worker_log = worker.communicate()[0]
    calls = [s for s in received if s.attributes.get("llmobserve.capture") == "wire"]
    assert len(calls) == 1, worker_log
    (call,) = calls
    assert call.service_name == "celery-worker"
    assert call.attributes["llmobserve.customer.id"] == "acme"
    assert call.attributes["llmobserve.section.path"] == "agent:x"
    assert call.attributes["llmobserve.cost.usd"] == pytest.approx(EXPECTED_COST, abs=1e-12)
    (section,) = [s for s in received if s.name == "agent:x"]
    assert section.service_name == "producer"
    assert call.trace_id == section.trace_id
    (task_run,) = [s for s in received if s.name == "run/apps.summarise"]
    # The call's parent is the task's run span, or openai-v2's span of the call (zero-code loads it too).
    parent = {s.span_id: s for s in received}[call.parent_span_id]
    if parent != task_run:
        assert parent.attributes["llmobserve.cost.status"] == "duplicate"
        assert "llmobserve.cost.usd" not in parent.attributes
        assert parent.parent_span_id == task_run.span_id
    assert task_run.attributes["llmobserve.customer.id"] == "acme"
