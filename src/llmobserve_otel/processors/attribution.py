"""Copies the customer id and section path from baggage onto every span started under them."""

from __future__ import annotations

from typing import Any

from opentelemetry import baggage, context
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.span_attributes import set_attributes

_BAGGAGE_KEY: Any = getattr(baggage, "_BAGGAGE_KEY", None)


class AttributionSpanProcessor(SpanProcessor):
    """`llmobserve.customer.id` and `llmobserve.section.path` from baggage, at span start."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        # Runs for every span: the baggage dict read straight from the context when the API's key is
        # known (get_all wraps it in a read-only proxy first), else through get_all.
        if _BAGGAGE_KEY is None:
            entries: Any = baggage.get_all(parent_context)
        else:
            entries = (parent_context if parent_context is not None else context.get_current()).get(
                _BAGGAGE_KEY
            )
            if not isinstance(entries, dict):
                return
        if not entries:
            return
        customer = entries.get(sc.BAGGAGE_CUSTOMER_ID)
        path = entries.get(sc.BAGGAGE_SECTION_PATH)
        if customer is not None or path is not None:
            attributes: dict[str, str] = {}
            if customer is not None:
                attributes[sc.CUSTOMER_ID] = str(customer)
            if path is not None:
                attributes[sc.SECTION_PATH] = str(path)
            set_attributes(span, attributes)

    def on_end(self, span: ReadableSpan) -> None:
        pass
