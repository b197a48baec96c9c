"""`make demo`: the support agent -> local collector -> embedded ClickHouse -> cost report.

Starts the provider simulator (unless OPENAI_API_KEY and ANTHROPIC_API_KEY are set), a collector on a
free port with a fresh store under .llmobserve/demo, runs examples/support_agent.py, then prints the
report per customer, per model, and the section tree. Needs no key and no network.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / ".llmobserve" / "demo"
CLI = [sys.executable, "-m", "llmobserve_otel"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the collector exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the collector did not become healthy in time")


def banner(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def main() -> int:
    env = dict(os.environ)
    simulators = []
    if not (env.get("OPENAI_API_KEY") and env.get("ANTHROPIC_API_KEY")):
        from llmobserve_otel.testing import ProviderSimulator

        # One simulator per provider, so each host maps to one provider as the real ones do.
        openai_sim, anthropic_sim = simulators = [ProviderSimulator().start(), ProviderSimulator().start()]
        env.update(
            OPENAI_BASE_URL=openai_sim.url + "/v1",
            OPENAI_API_KEY="sk-demo",
            ANTHROPIC_BASE_URL=anthropic_sim.url,
            ANTHROPIC_API_KEY="sk-ant-demo",
            LLMOBSERVE_DEMO_SIMULATED="1",
            LLMOBSERVE_PROVIDER_HOSTS=f"{openai_sim.host_port}=openai,{anthropic_sim.host_port}=anthropic",
        )
        print("provider simulators stand in for OpenAI and Anthropic (set both API keys for the real APIs)")
    shutil.rmtree(STORE, ignore_errors=True)
    port = free_port()
    collector_url = f"http://127.0.0.1:{port}"
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=collector_url,
        LLMOBSERVE_COLLECTOR_URL=collector_url,
        LLMOBSERVE_CLICKHOUSE_URL=f"chdb://{STORE}",
    )
    collector = subprocess.Popen([*CLI, "collector", "--port", str(port)], env=env)
    try:
        wait_healthy(collector_url, collector)
        banner("running examples/support_agent.py")
        subprocess.run([sys.executable, str(ROOT / "examples" / "support_agent.py")], env=env, check=True)
        time.sleep(1.5)  # the collector batches inserts (flush interval)
        for title, args in (
            ("cost per customer", ["--by", "customer"]),
            ("cost per model", ["--by", "model"]),
            ("section tree (agent -> step -> tool), all customers", ["--tree"]),
        ):
            banner(title)
            subprocess.run([*CLI, "report", *args], env=env, check=True)
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=60)
        for simulator in simulators:
            simulator.stop()
    print(f"\nstore: {STORE}  (llmobserve-otel report --clickhouse-url chdb://{STORE} --by provider)")
    print(
        f"dashboards: .venv/bin/llmobserve-otel collector --clickhouse-url chdb://{STORE}"
        "  then open http://127.0.0.1:4318/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
