"""Copies the customer id and section path from baggage onto every span started under them."""

from __future__ import annotations

from opentelemetry import baggage
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmobserve_otel import semconv as sc


class AttributionSpanProcessor(SpanProcessor):
    """`llmobserve.customer.id` and `llmobserve.section.path` from baggage, at span start."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        entries = baggage.get_all(parent_context)
        if not entries:
            return
        customer = entries.get(sc.BAGGAGE_CUSTOMER_ID)
        if customer is not None:
            span.set_attribute(sc.CUSTOMER_ID, str(customer))
        path = entries.get(sc.BAGGAGE_SECTION_PATH)
        if path is not None:
            span.set_attribute(sc.SECTION_PATH, str(path))

    def on_end(self, span: ReadableSpan) -> None:
        pass
