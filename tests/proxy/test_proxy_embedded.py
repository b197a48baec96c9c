"""The proxy embedded in a process (`ServerThread`), its spans to an exporter passed in."""

from __future__ import annotations

import json

import openai
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmobserve_otel.proxy import Proxy, ProxyConfig, ServerThread
from llmobserve_otel.proxy._telemetry import tracer_provider


def test_server_thread_with_its_own_tracer_provider(sim, spans):
    exporter = InMemorySpanExporter()
    proxy = Proxy(
        ProxyConfig(upstreams={"openai": sim.url}, price=True),
        tracer_provider=tracer_provider([exporter]),
    )
    with ServerThread(proxy) as server:
        client = openai.OpenAI(base_url=server.url + "/openai/v1", api_key="sk-x", max_retries=0)
        client.embeddings.create(
            model="text-embedding-3-small",
            input=["a b c"],
            extra_headers={"x-sim-usage": json.dumps({"input_tokens": 2000})},
        )
    proxy.tracer_provider.force_flush()
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes)
    assert span.resource.attributes["service.name"] == "llmobserve-proxy"
    assert (attrs["llmobserve.operation"], attrs["gen_ai.usage.input_tokens"]) == ("embeddings", 2000)
    # text-embedding-3-small: $0.02 per million input tokens (https://openai.com/api/pricing/)
    assert abs(attrs["llmobserve.cost.usd"] - 2000 * 0.02 / 1_000_000) < 1e-12
    assert attrs["llmobserve.cost.source"] == "proxy"
    # The app process recorded no provider call of its own; the proxy's span is in its own provider.
    assert spans.provider_calls() == []
