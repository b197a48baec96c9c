"""Which spans had their call priced on a wire-capture child, so no span prices the same call twice.

Provider SDKs and other GenAI instrumentations (the anthropic SDK's own spans, openai-v2,
OpenLLMetry, ...) open a span around the HTTP call our capture prices. The capture marks its
parent here at start; the cost processor then marks that span `duplicate` instead of pricing it,
and passes the mark up through enclosing GenAI spans. Entries leave when the span ends.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context

_MAX = 100_000  # spans left open forever must not grow this without bound
_covered: dict[int, None] = {}


def cover(span_id: int) -> None:
    if len(_covered) >= _MAX:
        _covered.pop(next(iter(_covered)), None)
    _covered[span_id] = None


def release(span_id: int) -> bool:
    """Forget `span_id`; True when it was covered."""
    return _covered.pop(span_id, 0) is None


def any_covered() -> bool:
    """Whether any span is covered now (mostly not: `release` can then be skipped)."""
    return bool(_covered)


def cover_current_span(ctx: Context | None = None) -> None:
    """Cover the active span (of `ctx`, else of the current context): its call is priced on another
    span (our wire span beneath it, or the proxy's). A remote span never ends in this process, so
    it is not covered: its entry would never leave."""
    parent = trace.get_current_span(ctx).get_span_context()
    if parent.is_valid and not parent.is_remote:
        cover(parent.span_id)
