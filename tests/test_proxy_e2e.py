"""End to end, every part real and in its own process: app -> (proxy ->) rotel with the pricing
processor -> local collector with its own pricing off -> chDB -> `llmobserve-otel report`.

The local collector runs with `--no-pricing` and the spans reach rotel without a cost, so a cost in
the store can only come from rotel's processor (`llmobserve.cost.source = collector`). Two chains:
- the app's own SDK spans, exported with their cost removed (an instrumentation that does not price);
- the full proxy mode: app (real openai SDK under `llmobserve-otel run`, LLMOBSERVE_PROXY_URL) ->
  `llmobserve-otel proxy` -> provider simulator; the proxy's span -> rotel -> collector.

Prices (https://openai.com/api/pricing, the same figures genai-prices carries for gpt-4o):
$2.50 per million input tokens, $1.25 per million cached input tokens, $10.00 per million output.
The call: 1000 input tokens of which 200 cached, 500 output (the simulator reports exactly that):
  800 * $2.50 + 200 * $1.25 + 500 * $10.00 = $2000 + $250 + $5000 per million = $0.00725.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("rotel", reason="the rotel extra (Linux, Python 3.11) is not installed")

sys.path.insert(0, str(Path(__file__).parent / "pricing_processor"))
from rotel_harness import LocalCollector, Rotel, clean_env, free_port, report, require_rotel, wait_http

from llmobserve_otel import semconv as sc
from llmobserve_otel.testing import ProviderSimulator

require_rotel()
pytestmark = pytest.mark.timeout(180)

CALL_COST = (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / 1_000_000
SECTION = "agent:support/step:answer"
USAGE_HEADER = json.dumps({"input_tokens": 1000, "output_tokens": 500, "cached_tokens": 200})

# The app: the real openai SDK, customer and sections from llmobserve_otel. It exports its spans
# over OTLP without their cost, as an instrumentation that does not price would.
_APP_WITHOUT_COST = textwrap.dedent(
    """
    import json, os, sys
    import openai
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    import llmobserve_otel as lo

    class WithoutCost(SpanExporter):
        def __init__(self, inner):
            self.inner = inner

        def export(self, spans):
            stripped = [
                ReadableSpan(
                    name=s.name, context=s.context, parent=s.parent, resource=s.resource,
                    attributes={k: v for k, v in (s.attributes or {}).items()
                                if not k.startswith("llmobserve.cost.")},
                    events=s.events, links=s.links, kind=s.kind, status=s.status,
                    start_time=s.start_time, end_time=s.end_time,
                    instrumentation_scope=s.instrumentation_scope,
                )
                for s in spans
            ]
            return self.inner.export(stripped)

        def shutdown(self):
            self.inner.shutdown()

    provider = TracerProvider(resource=Resource.create({"service.name": "e2e-app"}))
    trace.set_tracer_provider(provider)
    lo.observe(export=False)
    provider.add_span_processor(
        SimpleSpanProcessor(WithoutCost(OTLPSpanExporter(endpoint=os.environ["APP_OTLP_URL"] + "/v1/traces")))
    )
    client = openai.OpenAI(base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-e2e-secret", max_retries=0)
    with lo.customer("acme"), lo.section("agent:support"), lo.section("step:answer"):
        chat = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Where is my order?"}],
            extra_headers={"x-sim-usage": os.environ["APP_USAGE"], "x-sim-response-model": "gpt-4o-2024-08-06"},
        )
    provider.shutdown()
    print(json.dumps({"usage": chat.usage.model_dump()}), flush=True)
    """
)

# The app behind the proxy: run under `llmobserve-otel run --` (no observe() call), it only names
# the customer and sections; LLMOBSERVE_PROXY_URL sends its provider call through the proxy.
_APP_THROUGH_PROXY = textwrap.dedent(
    """
    import json, os
    import openai
    import llmobserve_otel as lo

    client = openai.OpenAI(base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-e2e-secret", max_retries=0)
    with lo.customer("acme"), lo.section("agent:support"), lo.section("step:answer"):
        chat = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Where is my order?"}],
            extra_headers={"x-sim-usage": os.environ["APP_USAGE"], "x-sim-response-model": "gpt-4o-2024-08-06"},
        )
    print(json.dumps({"usage": chat.usage.model_dump()}), flush=True)
    """
)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[LocalCollector]:
    """`llmobserve-otel collector --no-pricing` on a free port with a tmp chDB store."""
    running = LocalCollector.start(tmp_path, "--no-pricing")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def rotel(tmp_path: Path, collector: LocalCollector) -> Iterator[Rotel]:
    """rotel with the pricing processor, exporting OTLP/HTTP to the local collector."""
    with Rotel(tmp_path, exporter_url=collector.url) as running:
        yield running


@pytest.fixture
def upstream() -> Iterator[ProviderSimulator]:
    with ProviderSimulator() as sim:
        yield sim


def _stored_calls(collector: LocalCollector) -> list[tuple]:
    """After the collector stopped: the provider-call rows, read from the chDB store itself."""
    from llmobserve_otel.store import open_store

    client = open_store(f"chdb://{collector.store}", create=False, schema=False)
    try:
        return client.query(
            "SELECT ServiceName, SpanAttributes[{customer:String}], SpanAttributes[{section:String}], "
            "SpanAttributes[{source:String}], SpanAttributes[{cost:String}] "
            "FROM otel_traces WHERE mapContains(SpanAttributes, {cost:String})",
            parameters={
                "customer": sc.CUSTOMER_ID,
                "section": sc.SECTION_PATH,
                "source": sc.COST_SOURCE,
                "cost": sc.COST_USD,
            },
        ).result_rows
    finally:
        client.close()


def _assert_priced_by_rotel(collector: LocalCollector, service: str) -> None:
    by_customer = report("--by", "customer", collector_url=collector.url)
    assert [(r["key"], r["calls"], r["input_tokens"], r["output_tokens"]) for r in by_customer] == [
        ("acme", 1, 1000, 500)
    ]
    assert by_customer[0]["cost_usd"] == pytest.approx(CALL_COST, abs=1e-12)  # $0.00725
    by_section = report("--by", "section", collector_url=collector.url)
    assert [(r["key"], r["calls"]) for r in by_section] == [(SECTION, 1)]
    assert by_section[0]["cost_usd"] == pytest.approx(CALL_COST, abs=1e-12)
    stderr = collector.stop()
    assert "pricing off" in stderr
    rows = _stored_calls(collector)
    assert len(rows) == 1, rows
    stored_service, customer, section, source, cost = rows[0]
    assert (stored_service, customer, section, source) == (service, "acme", SECTION, "collector")
    assert float(cost) == pytest.approx(CALL_COST, abs=1e-12)


def test_sdk_spans_without_cost_are_priced_by_rotel(
    tmp_path: Path, collector: LocalCollector, rotel: Rotel, upstream: ProviderSimulator
) -> None:
    app = tmp_path / "app.py"
    app.write_text(_APP_WITHOUT_COST)
    out = subprocess.run(
        [sys.executable, str(app)],
        env=clean_env(
            APP_OTLP_URL=rotel.url,
            APP_OPENAI_URL=upstream.url,
            APP_USAGE=USAGE_HEADER,
            LLMOBSERVE_PROVIDER_HOSTS=f"{upstream.host_port}=openai",
        ),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["usage"]["prompt_tokens"] == 1000
    # The app's spans: the provider call and the two section spans.
    collector.wait_idle(3)
    assert rotel.process.poll() is None, rotel.output()
    _assert_priced_by_rotel(collector, "e2e-app")


@pytest.fixture
def proxy(tmp_path: Path, rotel: Rotel, upstream: ProviderSimulator) -> Iterator[str]:
    """`llmobserve-otel proxy` on a free port, exporting its spans to rotel; the simulator is the
    provider host it may reach (named by the operator in its LLMOBSERVE_PROVIDER_HOSTS)."""
    pytest.importorskip("llmobserve_otel.proxy", reason="the proxy is not built")
    port = free_port()
    log = open(tmp_path / "proxy.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "llmobserve_otel", "proxy", "--port", str(port)],
        env=clean_env(
            OTEL_EXPORTER_OTLP_ENDPOINT=rotel.url,
            OTEL_SERVICE_NAME="e2e-proxy",
            OTEL_BSP_SCHEDULE_DELAY="100",
            LLMOBSERVE_PROVIDER_HOSTS=f"{upstream.host_port}=openai",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(url + "/health", process, "the proxy", timeout=60)
        except Exception as exc:
            log.seek(0)
            raise AssertionError(log.read()) from exc
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # drains and flushes its spans
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


@pytest.mark.parametrize(
    "openai_v2",
    [False, True],
    ids=["app-without-openai-v2", "app-with-openai-v2"],
)
def test_proxy_span_is_priced_by_rotel(
    tmp_path: Path,
    collector: LocalCollector,
    rotel: Rotel,
    upstream: ProviderSimulator,
    proxy: str,
    openai_v2: bool,
) -> None:
    app = tmp_path / "app.py"
    app.write_text(_APP_THROUGH_PROXY)
    env = clean_env(
        APP_OPENAI_URL=upstream.url,
        APP_USAGE=USAGE_HEADER,
        LLMOBSERVE_PROXY_URL=proxy,
        LLMOBSERVE_PROVIDER_HOSTS=f"{upstream.host_port}=openai",
        OTEL_EXPORTER_OTLP_ENDPOINT=rotel.url,
        OTEL_SERVICE_NAME="e2e-app",
    )
    if not openai_v2:  # `run` loads every installed instrumentation; the dev extra installs openai-v2
        env["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = "openai"
    out = subprocess.run(
        [sys.executable, "-m", "llmobserve_otel", "run", "--", sys.executable, str(app)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["usage"]["prompt_tokens"] == 1000
    # The provider got the call through the proxy, with the app's key and none of our context.
    assert len(upstream.requests) == 1
    headers = {k.lower(): v for k, v in upstream.requests[0].headers.items()}
    assert headers["authorization"] == "Bearer sk-e2e-secret"
    assert not {"baggage", "traceparent", "tracestate"} & set(headers)
    # The app's spans (HTTP client span, two sections, openai-v2's when on) and the proxy's span.
    collector.wait_idle(5 if openai_v2 else 4)
    assert rotel.process.poll() is None, rotel.output()
    _assert_priced_by_rotel(collector, "e2e-proxy")
