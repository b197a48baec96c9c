"""Adds `llmobserve.cost.usd` to GenAI spans made by other instrumentations, at most once per call.

Spans carrying `gen_ai.*` usage but no cost (openai-v2, OpenLLMetry, OpenLIT, the provider SDKs'
own spans) are priced with the pricing core, `llmobserve.cost.source=sdk`. A span whose call was
already priced on a span beneath it (our wire capture, or another instrumentation's GenAI span) is
marked `duplicate` instead (see `_internal/priced.py`), so cost is never counted twice. The attributes are added while the span
ends (`_on_ending`), before any exporter sees it, so every export pipeline gets them.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal import priced
from llmobserve_otel._internal.guard import report_internal_error


def _add_attributes(span: Span, extra: dict[str, Any]) -> None:
    """Set attributes on a span that is ending (its attributes were just frozen)."""
    attributes = span._attributes  # the SDK offers no public way in _on_ending
    frozen = attributes._immutable  # type: ignore[union-attr]
    attributes._immutable = False  # type: ignore[union-attr]
    try:
        for key, value in extra.items():
            attributes[key] = value  # type: ignore[index]
    finally:
        attributes._immutable = frozen  # type: ignore[union-attr]


class CostSpanProcessor(SpanProcessor):
    """Prices foreign GenAI spans as they end; leaves our own (already priced) spans alone."""

    def _on_ending(self, span: Span) -> None:
        # Runs for every span the app ends: a plain try (not the `internal_errors` context manager)
        # around the whole body, in one function.
        try:
            covered = priced.any_covered() and priced.release(span.context.span_id)
            attributes = span.attributes
            # `in` on the SDK's BoundedAttributes is the Mapping mixin's: a Python __getitem__ raising
            # KeyError per absent key, five of them for every span the app ends. Its dict answers alike.
            plain = getattr(attributes, "_dict", None)
            if type(plain) is not dict:
                plain = attributes or {}
            if sc.CAPTURE in plain or not any(map(plain.__contains__, sc.TOKEN_COUNT_ATTRIBUTES)):
                return
            # Whatever happens to this span, a GenAI span around it with usage is the same call (or an
            # aggregate of calls already counted): it must not be priced again.
            if span.parent is not None:
                priced.cover(span.parent.span_id)
            if covered:
                _add_attributes(
                    span,
                    {sc.COST_STATUS: sc.STATUS_DUPLICATE, sc.COST_REASON: "priced on a span beneath it"},
                )
                return
            from llmobserve_otel.pricing import cost_attributes  # here: observe() need not import pricing

            extra = cost_attributes(attributes, source=sc.SOURCE_SDK, timestamp_ns=span.start_time)
            if extra:
                _add_attributes(span, extra)
        except Exception as exc:
            report_internal_error("processors.cost", exc)

    def on_end(self, span: ReadableSpan) -> None:
        pass
