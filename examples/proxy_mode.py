"""Proxy mode: the app carries no capture code; `llmobserve-otel proxy` records each provider call.

Runs as it is, with no keys and no network: the local provider simulator stands in for OpenAI, the
proxy is started with `--upstream openai=SIMULATOR --price` and prints its spans to the console
(`OTEL_TRACES_EXPORTER=console`; in production it exports OTLP to the collector, which prices).

    python examples/proxy_mode.py

Against the real API: run `llmobserve-otel proxy` yourself and point any SDK at it,
`OPENAI_BASE_URL=http://127.0.0.1:9000/openai/v1`, or, with llmobserve-otel in the app,
`LLMOBSERVE_PROXY_URL=http://127.0.0.1:9000` (calls to api.openai.com are routed automatically).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import openai

import llmobserve_otel as lo
from llmobserve_otel.testing import ProviderSimulator


def start_proxy(upstream: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_BSP_SCHEDULE_DELAY": "200"}
    proxy = subprocess.Popen(
        [sys.executable, "-m", "llmobserve_otel", "proxy", "--port", "0", "--price", "--upstream", upstream],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proxy.stderr is not None
    for line in proxy.stderr:  # "llmobserve-otel proxy: listening on http://127.0.0.1:PORT"
        if "listening on " in line:
            return proxy, line.rsplit(" ", 1)[1].strip()
    raise RuntimeError("the proxy did not start")


def main() -> None:
    with ProviderSimulator() as sim:
        proxy, proxy_url = start_proxy(f"openai={sim.url}")
        try:
            # The app only propagates context (traceparent + baggage to the proxy, an internal host).
            lo.observe(service_name="proxy-demo", export=False, capture=False)
            client = openai.OpenAI(base_url=f"{proxy_url}/openai/v1", api_key="sk-demo", max_retries=0)
            with lo.customer("acme"), lo.section("agent:support"):
                reply = client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": "Where is my invoice?"}],
                    extra_headers={"x-sim-usage": json.dumps({"input_tokens": 1200, "output_tokens": 300})},
                )
            print(f"reply: {reply.choices[0].message.content!r}; usage {reply.usage.prompt_tokens} in, "
                  f"{reply.usage.completion_tokens} out", file=sys.stderr)  # fmt: skip
        finally:
            proxy.terminate()  # SIGTERM: the proxy flushes its span (printed below) and exits
            proxy.wait(30)


if __name__ == "__main__":
    main()
