"""Proxy fixtures (the parts are in `proxy_harness`): OTLP receiver, fault server, proxy subprocesses."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from proxy_harness import FaultServer, OtlpReceiver, ProxyProcess, proxy_env, start_fault_server


@pytest.fixture(scope="session")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def faults() -> Iterator[FaultServer]:
    state, server = start_fault_server()
    yield state
    server.shutdown()


@pytest.fixture(scope="module")
def start_proxy() -> Iterator[Callable[..., ProxyProcess]]:
    """Start `llmobserve-otel proxy` subprocesses, stopped at the end of the module."""
    started: list[ProxyProcess] = []

    def start(args: list[str], env: dict[str, str], port: int = 0) -> ProxyProcess:
        proxy = ProxyProcess(args, env, port)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="module")
def proxy(start_proxy, otlp, sim, anthropic_sim, faults) -> ProxyProcess:
    """The proxy most tests use: OpenAI and Anthropic routed to simulators, the fault server a declared
    provider host."""
    return start_proxy(
        [
            "--upstream",
            f"openai=http://{sim.host_port}",
            "--upstream",
            f"anthropic=http://{anthropic_sim.host_port}",
            "--max-body-bytes",
            "65536",
            "--upstream-timeout",
            "1.5",
        ],
        proxy_env(otlp, LLMOBSERVE_PROVIDER_HOSTS=f"{faults.host_port}=openai"),
    )


@pytest.fixture
def received(otlp, faults) -> Iterator[OtlpReceiver]:
    """The OTLP receiver, emptied for this test (and the fault server reset)."""
    otlp.clear()
    faults.reset()
    yield otlp
    faults.gate.set()
