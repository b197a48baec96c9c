"""A Celery app for a worker in a subprocess: filesystem transport and result backend under APP_CELERY_DIR.

No tracing or propagation code: the worker and the producer run under `llmobserve-otel run`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import openai
from celery import Celery

_folder = Path(os.environ["APP_CELERY_DIR"])
for _sub in ("queue", "results", "control"):
    (_folder / _sub).mkdir(parents=True, exist_ok=True)

app = Celery("celery_app", broker="filesystem://", backend=f"file://{_folder / 'results'}")
app.conf.update(
    broker_transport_options={
        "data_folder_in": str(_folder / "queue"),
        "data_folder_out": str(_folder / "queue"),
        "control_folder": str(_folder / "control"),
        "store_processed": False,
        "polling_interval": 0.05,
    },
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="apps.summarise")
def summarise() -> int:
    client = openai.OpenAI(base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-test", max_retries=0)
    result = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Summarise the ticket."}],
        extra_headers={"x-sim-usage": json.dumps({"input_tokens": 300, "output_tokens": 100})},
    )
    return result.usage.total_tokens
