"""Span processors: attribution from baggage, and cost for spans other instrumentations made."""

from llmobserve_otel.processors.attribution import AttributionSpanProcessor
from llmobserve_otel.processors.cost import CostSpanProcessor

__all__ = ("AttributionSpanProcessor", "CostSpanProcessor")
