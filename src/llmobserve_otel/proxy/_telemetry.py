"""The proxy's own OpenTelemetry pipeline: its TracerProvider, exporters and span helpers.

The proxy is a process of its own (service.name `llmobserve-proxy` unless OTEL_SERVICE_NAME says
otherwise). Spans leave through the exporters named by the standard OTEL_* variables (default
OTLP/HTTP to http://localhost:4318). Attribution comes from the incoming baggage through the same
processor the SDK uses; spans are not priced here unless `--price` (then `cost.source=proxy`).
"""

from __future__ import annotations

import os

from opentelemetry import baggage, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from llmobserve_otel.processors.attribution import AttributionSpanProcessor

SERVICE_NAME = "llmobserve-proxy"


def _default_exporters() -> list[SpanExporter]:
    """The exporters OTEL_TRACES_EXPORTER names, OTLP/HTTP with the proxy's own span encoder."""
    from llmobserve_otel._observe import _exporters, _LazyOTLPExporter
    from llmobserve_otel.proxy._otlp import OTLPSpanExporter

    return [OTLPSpanExporter() if isinstance(e, _LazyOTLPExporter) else e for e in _exporters()]


def tracer_provider(exporters: list[SpanExporter] | None = None) -> TracerProvider:
    """A TracerProvider for the proxy: attribution from baggage, batch export per exporter."""
    resource_attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(resource_attributes))
    provider.add_span_processor(AttributionSpanProcessor())
    for exporter in exporters if exporters is not None else _default_exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def incoming_context(headers: list[tuple[bytes, bytes]]) -> Context:
    """The app's context from the request: traceparent (the parent span) and baggage."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in (b"traceparent", b"tracestate", b"baggage")
    }
    if not carrier:
        return Context()
    return propagate.extract(carrier, context=Context())


def has_baggage(ctx: Context) -> bool:
    return bool(baggage.get_all(ctx))


def tracer(provider: trace.TracerProvider) -> trace.Tracer:
    from llmobserve_otel import __version__

    return provider.get_tracer("llmobserve_otel.proxy", __version__)
