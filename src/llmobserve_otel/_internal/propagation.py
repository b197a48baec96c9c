"""Baggage never leaves for a third party.

The stock HTTP instrumentations inject the global propagator's headers into every request. The
captures mark a request to a third-party host by setting `EXTERNAL_DESTINATION_KEY` in the
context the request runs in; `GuardedPropagator`, wrapped around the global propagator, then
injects with the baggage removed (traceparent still goes, as OpenTelemetry does by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import baggage, context, propagate
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)

EXTERNAL_DESTINATION_KEY = context.create_key("llmobserve-external-destination")


class GuardedPropagator(TextMapPropagator):
    """Delegates to `inner`, dropping baggage when the destination is a third party."""

    def __init__(self, inner: TextMapPropagator) -> None:
        self.inner = inner

    def inject(
        self,
        carrier: CarrierT,
        context: context.Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        ctx = context if context is not None else _current()
        if ctx.get(EXTERNAL_DESTINATION_KEY):
            ctx = baggage.clear(ctx)
        self.inner.inject(carrier, ctx, setter)

    def extract(
        self,
        carrier: CarrierT,
        context: context.Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> context.Context:
        return self.inner.extract(carrier, context, getter)

    @property
    def fields(self) -> set[str]:
        return self.inner.fields


def _current() -> context.Context:
    return context.get_current()


def install_guard() -> None:
    """Wrap the global propagator once (idempotent)."""
    current = propagate.get_global_textmap()
    if not isinstance(current, GuardedPropagator):
        propagate.set_global_textmap(GuardedPropagator(current))


@contextmanager
def external_destination(external: bool) -> Iterator[None]:
    """Run the block with the third-party mark set (or untouched when `external` is False)."""
    if not external:
        yield
        return
    token = context.attach(context.set_value(EXTERNAL_DESTINATION_KEY, True))
    try:
        yield
    finally:
        context.detach(token)
