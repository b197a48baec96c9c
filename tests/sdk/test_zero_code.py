"""Zero-code: `opentelemetry-instrument python app.py` and `llmobserve-otel run -- python app.py`
give what `observe()` gives, exported over OTLP http/protobuf to a receiver this test runs.

The apps (tests/sdk/apps/) never call observe(): `attributed_app.py` imports llmobserve_otel only
for `customer` / `section`, `plain_app.py` does not import it at all. They call the real openai
and anthropic SDKs against provider simulators mapped with LLMOBSERVE_PROVIDER_HOSTS. The same
must hold when `opentelemetry-instrument` picks opentelemetry-distro's distro and configurator
(installed beside ours) instead of ours ("stock-distro").

Expected costs, from the published prices per million tokens (https://openai.com/api/pricing,
https://www.anthropic.com/pricing; the same figures genai-prices carries):
  gpt-4o:            $2.50 input, $1.25 cached input, $10.00 output
  claude-sonnet-4-5: $3.00 input, $0.30 cache read, $3.75 cache write (5 min), $15.00 output
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from apps.otlp_receiver import OTLPReceiver, ReceivedSpan

from llmobserve_otel.cli import main as cli_main
from llmobserve_otel.testing import ProviderSimulator

M = 1_000_000
APPS = Path(__file__).parent / "apps"
BIN = Path(sys.executable).parent  # the venv's bin: opentelemetry-instrument, llmobserve-otel, python

# attributed_app.py
# chat: 1000 input of which 200 cached, 500 output -> 800 * $2.50 + 200 * $1.25 + 500 * $10
CHAT_COST = (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / M
# stream: 120 input, 40 output -> 120 * $2.50 + 40 * $10
STREAM_COST = (120 * 2.50 + 40 * 10.00) / M
# message: 1000 input + 2000 cache read + 500 cache write, 300 output
MESSAGE_COST = (1000 * 3.00 + 2000 * 0.30 + 500 * 3.75 + 300 * 15.00) / M
# plain_app.py
# chat: 400 input of which 100 cached, 50 output -> 300 * $2.50 + 100 * $1.25 + 50 * $10
PLAIN_CHAT_COST = (300 * 2.50 + 100 * 1.25 + 50 * 10.00) / M
# message stream: 200 input + 1000 cache write, 80 output -> 200 * $3 + 1000 * $3.75 + 80 * $15
PLAIN_MESSAGE_COST = (200 * 3.00 + 1000 * 3.75 + 80 * 15.00) / M

LAUNCHERS = ("opentelemetry-instrument", "llmobserve-otel-run")
# opentelemetry-instrumentation-openai-v2 names its tracer after itself, or after opentelemetry-util-genai.
OPENAI_V2_SCOPES = ("opentelemetry.instrumentation.openai_v2", "opentelemetry.util.genai.handler")


def test_hand_computed_costs():
    assert pytest.approx(0.00725) == CHAT_COST
    assert pytest.approx(0.0007) == STREAM_COST
    assert pytest.approx(0.009975) == MESSAGE_COST
    assert pytest.approx(0.001375) == PLAIN_CHAT_COST
    assert pytest.approx(0.00555) == PLAIN_MESSAGE_COST


@dataclass
class World:
    openai_sim: ProviderSimulator
    anthropic_sim: ProviderSimulator
    receiver: OTLPReceiver

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: none of the test session's OTEL_* / LLMOBSERVE_* settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            APP_OPENAI_URL=self.openai_sim.url,
            APP_ANTHROPIC_URL=self.anthropic_sim.url,
            LLMOBSERVE_PROVIDER_HOSTS=(
                f"{self.openai_sim.host_port}=openai,{self.anthropic_sim.host_port}=anthropic"
            ),
            OTEL_EXPORTER_OTLP_ENDPOINT=self.receiver.url,
            # Internal errors crash the app instead of hiding behind the fail-open guard.
            LLMOBSERVE_RAISE_INTERNAL_ERRORS="1",
            PYTHONWARNINGS="ignore::DeprecationWarning",
        )
        env.update(extra)
        return env


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with ProviderSimulator() as o, ProviderSimulator() as a, OTLPReceiver() as r:
        yield World(o, a, r)


def command(launcher: str, app: str, service: str) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment that run `python apps/<app>` under `launcher`."""
    script = str(APPS / app)
    if launcher == "opentelemetry-instrument":
        return [str(BIN / "opentelemetry-instrument"), "python", script], {"OTEL_SERVICE_NAME": service}
    return [str(BIN / "llmobserve-otel"), "run", "--service-name", service, "--", "python", script], {}


@dataclass
class Run:
    service: str
    returncode: int
    stdout: str
    stderr: str
    spans: list[ReceivedSpan]

    @property
    def output(self) -> dict:
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout.strip().splitlines()[-1])

    def wire(self) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.attributes.get("llmobserve.capture") == "wire"]

    def scope(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.scope == name]

    def openai_v2(self) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.scope in OPENAI_V2_SCOPES]

    def parent_section(self, span: ReceivedSpan) -> ReceivedSpan:
        """The section span closest above `span`, past any openai-v2 span in between."""
        by_id = {s.span_id: s for s in self.spans}
        parent = by_id[span.parent_span_id]
        while parent.scope in OPENAI_V2_SCOPES:
            parent = by_id[parent.parent_span_id]
        return parent

    def named(self, name: str) -> ReceivedSpan:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, [s.name for s in self.spans]
        return found[0]


Job = tuple[list[str], dict[str, str], int]  # argv, extra environment, provider calls it makes


def launch_all(world: World, jobs: dict[str, Job]) -> dict[str, Run]:
    """Run the jobs concurrently (one service name each) and collect each one's exported spans."""
    procs = {
        service: subprocess.Popen(
            argv,
            env=world.env(**extra),
            cwd=APPS,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service, (argv, extra, _) in jobs.items()
    }
    runs = {}
    for service, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        # The SDK exports the last batch at exit, before the process ends; this wait is a safety net.
        calls = jobs[service][2]
        spans = world.receiver.wait_for(
            lambda all_spans, s=service, n=calls: (
                sum(1 for x in all_spans if x.service_name == s and x.attributes.get("llmobserve.capture"))
                >= n
            ),
            timeout=2 if proc.returncode == 0 else 0,
        )
        runs[service] = Run(
            service, proc.returncode, out, err, [s for s in spans if s.service_name == service]
        )
    return runs


# opentelemetry-distro is installed too, and `opentelemetry-instrument` takes the FIRST distro and
# configurator entry points it finds (filesystem order) unless OTEL_PYTHON_DISTRO /
# OTEL_PYTHON_CONFIGURATOR say otherwise. "stock-distro" chooses the stock ones, as happens when
# their entry points come first: the app must get the same result.
STOCK_DISTRO = {
    "OTEL_PYTHON_DISTRO": "distro",
    "OTEL_PYTHON_CONFIGURATOR": "configurator",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",  # the stock distro defaults to grpc
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}


@pytest.fixture(scope="module")
def runs(world: World) -> dict[str, Run]:
    """Every app under every launcher, launched at once (they are independent processes)."""
    jobs: dict[str, Job] = {}
    for launcher in LAUNCHERS:
        jobs[f"attributed-{launcher}"] = (
            *command(launcher, "attributed_app.py", f"attributed-{launcher}"),
            3,
        )
        jobs[f"plain-{launcher}"] = (*command(launcher, "plain_app.py", f"plain-{launcher}"), 2)
    argv, extra = command("opentelemetry-instrument", "attributed_app.py", "attributed-stock-distro")
    jobs["attributed-stock-distro"] = (argv, {**extra, **STOCK_DISTRO}, 3)
    return launch_all(world, jobs)


def _no_double_pricing(run: Run, expected_priced: int) -> None:
    priced = [s for s in run.spans if "llmobserve.cost.usd" in s.attributes]
    assert len(priced) == expected_priced, [(s.scope, s.name) for s in priced]
    assert all(s.attributes.get("llmobserve.capture") == "wire" for s in priced)
    # The anthropic SDK's own span (anthropic 2.x) carries usage too, but not a second cost.
    sdk_spans = run.scope("com.anthropic.sdk.python")
    assert [s.name for s in sdk_spans] == ["anthropic.messages.create"]
    sdk = sdk_spans[0]
    assert "llmobserve.cost.usd" not in sdk.attributes
    assert sdk.attributes["llmobserve.cost.status"] == "duplicate"
    assert "gen_ai.usage.output_tokens" in sdk.attributes
    # ... and it is the parent of the wire span of its call.
    (wire,) = [s for s in run.wire() if s.attributes["llmobserve.provider"] == "anthropic"]
    assert wire.parent_span_id == sdk.span_id and wire.trace_id == sdk.trace_id
    # opentelemetry-instrumentation-openai-v2 is an installed entry point, so zero-code loads it too
    # (when it can load): its span of each OpenAI call has the usage but not a second cost.
    openai_wire = [s for s in run.wire() if s.attributes["llmobserve.provider"] == "openai"]
    v2 = run.openai_v2()
    if v2:
        assert len(v2) == len(openai_wire), [s.name for s in v2]
        for span in v2:
            assert "llmobserve.cost.usd" not in span.attributes
            assert span.attributes["llmobserve.cost.status"] == "duplicate"
        assert {s.parent_span_id for s in openai_wire} == {s.span_id for s in v2}
    # One span per HTTP call: our capture replaced the stock httpx/httpx2 client span.
    assert run.scope("opentelemetry.instrumentation.httpx") == []


def _no_context_to_providers(run: Run, world: World, secrets: tuple[str, ...]) -> None:
    """Customers and sections never reach a provider; API keys never reach a span."""
    for span in run.spans:
        assert "sk-test-secret" not in repr(span.attributes)
        assert "sk-ant-secret" not in repr(span.attributes)
    for request in world.openai_sim.requests + world.anthropic_sim.requests:
        headers = request.headers
        assert "baggage" not in headers
        for secret in secrets:
            assert secret not in json.dumps(headers)
    for request in world.openai_sim.requests:
        assert "traceparent" not in request.headers  # wire-captured calls carry no context at all


@pytest.mark.parametrize("launcher", [*LAUNCHERS, "stock-distro"])
def test_attributed_app(runs: dict[str, Run], world: World, launcher: str):
    run = runs[f"attributed-{launcher}"]
    out = run.output
    assert out["chat"]["text"] == "This is a simulated reply to: Plan the research."
    assert out["chat"]["usage"]["prompt_tokens"] == 1000
    assert out["stream"]["text"].startswith("This is a simulated reply to: Stream the plan.")
    assert out["stream"]["usage"]["completion_tokens"] == 40
    assert out["message"]["usage"]["cache_read_input_tokens"] == 2000
    assert "Traceback" not in run.stderr

    wire = run.wire()
    assert len(wire) == 3, [s.name for s in run.spans]
    chat, stream = sorted(
        (s for s in wire if s.attributes["llmobserve.provider"] == "openai"),
        key=lambda s: s.attributes["gen_ai.usage.input_tokens"],
        reverse=True,
    )
    (message,) = [s for s in wire if s.attributes["llmobserve.provider"] == "anthropic"]

    assert chat.name == "chat gpt-4o" and chat.kind == "CLIENT"
    assert chat.scope == "llmobserve_otel.capture"
    a = chat.attributes
    assert a["llmobserve.cost.usd"] == pytest.approx(CHAT_COST, abs=1e-12)
    assert a["llmobserve.cost.source"] == "sdk"
    assert a["llmobserve.customer.id"] == "acme"
    assert a["llmobserve.section.path"] == "agent:research/step:plan"
    assert a["llmobserve.operation"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o"
    assert a["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert a["gen_ai.usage.input_tokens"] == 1000
    assert a["gen_ai.usage.output_tokens"] == 500
    assert a["gen_ai.usage.cache_read.input_tokens"] == 200

    a = stream.attributes
    assert a["llmobserve.cost.usd"] == pytest.approx(STREAM_COST, abs=1e-12)
    assert a["llmobserve.cost.source"] == "sdk"
    assert a["llmobserve.customer.id"] == "acme"
    assert a["llmobserve.section.path"] == "agent:research"
    assert a["gen_ai.request.stream"] is True
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (120, 40)
    assert "llmobserve.usage.incomplete" not in a

    assert message.name == "chat claude-sonnet-4-5"
    a = message.attributes
    assert a["llmobserve.cost.usd"] == pytest.approx(MESSAGE_COST, abs=1e-12)
    assert a["llmobserve.cost.source"] == "sdk"
    assert a["llmobserve.customer.id"] == "globex"
    assert a["llmobserve.section.path"] == "agent:writer"
    assert a["gen_ai.usage.input_tokens"] == 3500  # 1000 + 2000 cache read + 500 cache write (semconv)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 2000
    assert a["gen_ai.usage.cache_creation.input_tokens"] == 500
    assert a["gen_ai.usage.output_tokens"] == 300

    # Sections: spans with kind/name, and the calls in their traces.
    research, plan, writer = run.named("agent:research"), run.named("step:plan"), run.named("agent:writer")
    assert (
        research.attributes["llmobserve.section.kind"],
        research.attributes["llmobserve.section.name"],
    ) == (
        "agent",
        "research",
    )
    assert plan.attributes["llmobserve.section.path"] == "agent:research/step:plan"
    assert run.parent_section(chat) == plan and plan.parent_span_id == research.span_id
    assert run.parent_section(stream) == research
    assert {chat.trace_id, stream.trace_id} == {research.trace_id}
    assert message.trace_id == writer.trace_id

    assert {s.service_name for s in run.spans} == {run.service}
    assert sum(s.attributes.get("llmobserve.cost.usd", 0) for s in run.spans) == pytest.approx(
        CHAT_COST + STREAM_COST + MESSAGE_COST, abs=1e-12
    )
    _no_double_pricing(run, expected_priced=3)
    _no_context_to_providers(run, world, ("acme", "globex", "agent:"))


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_app_that_does_not_import_llmobserve(runs: dict[str, Run], world: World, launcher: str):
    run = runs[f"plain-{launcher}"]
    out = run.output
    assert out["chat"]["text"] == "This is a simulated reply to: Say hello."
    assert out["message"]["usage"]["cache_creation_input_tokens"] == 1000
    wire = run.wire()
    assert len(wire) == 2, [s.name for s in run.spans]
    (chat,) = [s for s in wire if s.attributes["llmobserve.provider"] == "openai"]
    (message,) = [s for s in wire if s.attributes["llmobserve.provider"] == "anthropic"]
    assert chat.attributes["llmobserve.cost.usd"] == pytest.approx(PLAIN_CHAT_COST, abs=1e-12)
    assert message.attributes["llmobserve.cost.usd"] == pytest.approx(PLAIN_MESSAGE_COST, abs=1e-12)
    assert message.attributes["gen_ai.request.stream"] is True
    assert message.attributes["gen_ai.usage.input_tokens"] == 1200  # 200 + 1000 cache write
    assert message.attributes["gen_ai.usage.cache_creation.input_tokens"] == 1000
    for span in wire:
        assert span.attributes["llmobserve.cost.source"] == "sdk"
        assert "llmobserve.customer.id" not in span.attributes
        assert "llmobserve.section.path" not in span.attributes
    assert {s.service_name for s in run.spans} == {run.service}
    _no_double_pricing(run, expected_priced=2)
    _no_context_to_providers(run, world, ())


def test_run_without_command_fails_clearly(capsys):
    assert cli_main(["run"]) == 1
    assert "no command given" in capsys.readouterr().err
    assert cli_main(["run", "--service-name", "x", "--"]) == 1
    assert "no command given" in capsys.readouterr().err


def test_run_with_unknown_command_fails_clearly(capsys):
    assert cli_main(["run", "--", "no-such-command-llmobserve"]) == 1
    assert "command not found: no-such-command-llmobserve" in capsys.readouterr().err


def test_run_sets_the_environment_and_execs(tmp_path):
    """The real console script: flags become OTEL_* variables, sitecustomize goes on PYTHONPATH,
    and the command's own exit code comes back (the process was replaced, not wrapped)."""
    probe = (
        "import json, os, sys; "
        "keys = ['OTEL_PYTHON_DISTRO', 'OTEL_PYTHON_CONFIGURATOR', 'OTEL_SERVICE_NAME', "
        "'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_EXPORTER', 'LLMOBSERVE_PROVIDER_HOSTS', "
        "'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'PYTHONPATH']; "
        "print(json.dumps({k: os.environ.get(k) for k in keys})); sys.exit(7)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LLMOBSERVE_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", LLMOBSERVE_PROVIDER_HOSTS="a.internal=openai")
    proc = subprocess.run(
        [
            str(BIN / "llmobserve-otel"),
            "run",
            "--service-name",
            "svc",
            "--endpoint",
            "http://127.0.0.1:1",
            "--exporter",
            "none",
            "--provider-hosts",
            "b.internal:8080=anthropic",
            "--capture-content",
            "--",
            "python",
            "-c",
            probe,
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 7, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    paths = seen.pop("PYTHONPATH").split(os.pathsep)
    assert seen == {
        "OTEL_PYTHON_DISTRO": "llmobserve_otel",
        "OTEL_PYTHON_CONFIGURATOR": "llmobserve_otel",
        "OTEL_SERVICE_NAME": "svc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
        "OTEL_TRACES_EXPORTER": "none",
        "LLMOBSERVE_PROVIDER_HOSTS": "a.internal=openai,b.internal:8080=anthropic",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
    }
    assert Path(paths[0], "sitecustomize.py").is_file()
    assert paths[1] == str(tmp_path)
