"""Shared fixtures: a provider simulator, one tracer provider with an in-memory exporter, clean env.

OpenTelemetry allows one global TracerProvider per process, so the session sets it once through
`observe()` (our processors included) and tests read finished spans from `spans` (cleared per test).
Subprocess tests (opentelemetry-instrument, Celery workers, dead collectors) get fresh processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

# Before anything imports the SDKs or llmobserve_otel: no keys, no exporters, no stray endpoints.
for _key in list(os.environ):
    if _key.startswith(("OTEL_", "LLMOBSERVE_")) or _key.endswith("_API_KEY"):
        del os.environ[_key]
os.environ["LLMOBSERVE_RAISE_INTERNAL_ERRORS"] = "1"
os.environ["OTEL_TRACES_EXPORTER"] = "none"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from llmobserve_otel.testing import ProviderSimulator  # noqa: E402

_SIM = ProviderSimulator().start()
# The simulator stands in for both providers: OpenAI on one port, Anthropic on another.
_ANTHROPIC_SIM = ProviderSimulator().start()
os.environ["LLMOBSERVE_PROVIDER_HOSTS"] = f"{_SIM.host_port}=openai,{_ANTHROPIC_SIM.host_port}=anthropic"
_EXPORTER = InMemorySpanExporter()


def _session_provider() -> TracerProvider:
    import llmobserve_otel as lo

    provider = lo.observe(service_name="tests")
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    return provider


_PROVIDER = _session_provider()


@pytest.fixture(scope="session")
def sim() -> ProviderSimulator:
    """The OpenAI-compatible simulator (mapped to provider `openai`)."""
    return _SIM


@pytest.fixture(scope="session")
def anthropic_sim() -> ProviderSimulator:
    """The Anthropic-compatible simulator (mapped to provider `anthropic`)."""
    return _ANTHROPIC_SIM


@pytest.fixture(scope="session")
def tracer_provider() -> TracerProvider:
    return _PROVIDER


class Spans:
    """Finished spans of the current test."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self._exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self._exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def provider_calls(self) -> list[ReadableSpan]:
        """Spans of our wire capture."""
        return [s for s in self.all() if (s.attributes or {}).get("llmobserve.capture") == "wire"]

    def one_call(self) -> dict:
        calls = self.provider_calls()
        assert len(calls) == 1, [c.name for c in calls]
        return dict(calls[0].attributes or {})


@pytest.fixture(scope="module", autouse=True)
def _provider_hosts_per_module() -> Iterator[None]:
    """Host mappings a module adds to the live registry (`wire.map_host`) end with the module.

    Its servers stop with it and their ports go back to the system: a later server (a proxy under
    test) given one of them must not be taken for that provider, which would suppress its HTTP span
    and its context propagation.
    """
    from llmobserve_otel import capture

    registry = capture.registry()
    hosts, patterns = dict(registry._build()), list(registry._patterns)
    yield
    registry._hosts, registry._patterns = hosts, patterns
    registry._cache.clear()


@pytest.fixture
def user_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """`user_prices(toml)`: the user's price file (LLMOBSERVE_PRICING_FILE) for the rest of the test."""
    from llmobserve_otel.pricing import catalogue

    def install(toml: str) -> None:
        path = tmp_path / "user-prices.toml"
        path.write_text(toml)
        monkeypatch.setenv("LLMOBSERVE_PRICING_FILE", str(path))
        catalogue.reset()

    yield install
    monkeypatch.delenv("LLMOBSERVE_PRICING_FILE", raising=False)
    catalogue.reset()


@pytest.fixture
def spans(sim: ProviderSimulator, anthropic_sim: ProviderSimulator) -> Iterator[Spans]:
    _EXPORTER.clear()
    sim.clear()
    anthropic_sim.clear()
    yield Spans(_EXPORTER)
    _EXPORTER.clear()


@contextmanager
def _store_held_open(url: str, *, create: bool) -> Iterator[None]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from llmobserve_otel.store import open_store
                client = open_store({url!r}, create={create!r})
                print("open", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        yield
    finally:
        holder.communicate("", timeout=30)


@pytest.fixture
def store_held_open() -> Callable[..., AbstractContextManager[None]]:
    """`with store_held_open(url, create=...)`: another process holds the chDB store open meanwhile."""
    return _store_held_open


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _SIM.stop()
    _ANTHROPIC_SIM.stop()
    trace.get_tracer_provider().shutdown()  # type: ignore[attr-defined]
