"""Enqueues `apps.summarise` under customer "acme" and section "agent:x", prints the task's result."""

from __future__ import annotations

import json

from celery_app import summarise

import llmobserve_otel as lo


def main() -> None:
    with lo.customer("acme"), lo.section("agent:x"):
        result = summarise.delay()
    print(json.dumps({"tokens": result.get(timeout=30, interval=0.05)}), flush=True)


if __name__ == "__main__":
    main()
