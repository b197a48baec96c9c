"""Attribution: sections (agent / step / tool) and customers, carried in OTel context and baggage."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import baggage, context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from llmobserve_otel import semconv as sc

F = TypeVar("F", bound=Callable[..., Any])

# Queues and workers always get trace context and baggage, whatever OTEL_PROPAGATORS says.
_CARRIER_PROPAGATOR = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


def _tracer() -> trace.Tracer:
    from llmobserve_otel import __version__

    return trace.get_tracer("llmobserve_otel", __version__)


def current_section_path() -> str | None:
    """The `/`-joined chain of the sections around the caller, or None."""
    value = baggage.get_baggage(sc.BAGGAGE_SECTION_PATH)
    return str(value) if value is not None else None


def current_customer_id() -> str | None:
    value = baggage.get_baggage(sc.BAGGAGE_CUSTOMER_ID)
    return str(value) if value is not None else None


class section:  # used like a function: `with section("agent:x")`, `@section("tool:y")`
    """A named part of the work (`agent:research`, `step:plan`, `tool:search`): a span and a path.

    Use as a context manager (sync or async) or as a decorator of functions, coroutines and (async)
    generators. Spans started inside carry `llmobserve.section.path`, the chain of section names
    joined by `/`; the section's own span also carries `llmobserve.section.kind` and `.name`.
    """

    def __init__(self, name: str, **attributes: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("section name must be a non-empty string such as 'agent:research'")
        self.name = name
        self.attributes = attributes
        self._active: list[tuple[trace.Span, object]] = []

    def _start(self) -> tuple[trace.Span, context.Context]:
        parent = current_section_path()
        path = f"{parent}/{self.name}" if parent else self.name
        kind, sep, short = self.name.partition(":")
        attrs: dict[str, Any] = {sc.SECTION_PATH: path, sc.SECTION_NAME: short if sep else self.name}
        if sep:
            attrs[sc.SECTION_KIND] = kind
        attrs.update(self.attributes)
        ctx = baggage.set_baggage(sc.BAGGAGE_SECTION_PATH, path)
        span = _tracer().start_span(self.name, context=ctx, attributes=attrs)
        return span, trace.set_span_in_context(span, ctx)

    @staticmethod
    def _end(span: trace.Span, exc: BaseException | None) -> None:
        if exc is not None and not isinstance(exc, GeneratorExit):
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()

    def __enter__(self) -> section:
        span, ctx = self._start()
        self._active.append((span, context.attach(ctx)))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span, token = self._active.pop()
        context.detach(token)  # type: ignore[arg-type]
        self._end(span, exc)

    async def __aenter__(self) -> section:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        name, attributes = self.name, self.attributes
        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
                span, ctx = section(name, **attributes)._start()
                gen = fn(*args, **kwargs)
                error: BaseException | None = None
                try:
                    sent: Any = None
                    while True:
                        token = context.attach(ctx)
                        try:
                            item = await gen.asend(sent)
                        except StopAsyncIteration:
                            return
                        finally:
                            context.detach(token)
                        sent = yield item
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    await gen.aclose()
                    self._end(span, error)

            return agen_wrapper  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                span, ctx = section(name, **attributes)._start()
                gen = fn(*args, **kwargs)
                error: BaseException | None = None
                try:
                    sent: Any = None
                    while True:
                        token = context.attach(ctx)
                        try:
                            item = gen.send(sent)
                        except StopIteration as stop:
                            return stop.value
                        finally:
                            context.detach(token)
                        sent = yield item
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    gen.close()
                    self._end(span, error)

            return gen_wrapper  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with section(name, **attributes):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with section(name, **attributes):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


@contextmanager
def customer(customer_id: str) -> Iterator[None]:
    """Attribute everything inside the block to end customer `customer_id`."""
    token = context.attach(baggage.set_baggage(sc.BAGGAGE_CUSTOMER_ID, str(customer_id)))
    try:
        yield
    finally:
        context.detach(token)


def set_customer_id(customer_id: str | None) -> None:
    """Attribute the rest of the current task, thread or request to `customer_id` (None clears it).

    Context is per thread and per asyncio task, so a request handler can call this without a
    `with` block and without leaking the id into other requests.
    """
    if customer_id is None:
        context.attach(baggage.remove_baggage(sc.BAGGAGE_CUSTOMER_ID))
    else:
        context.attach(baggage.set_baggage(sc.BAGGAGE_CUSTOMER_ID, str(customer_id)))


def inject_context(
    carrier: MutableMapping[str, str] | None = None,
) -> dict[str, str] | MutableMapping[str, str]:
    """Write the current trace context, customer and section into `carrier` (a message's headers).

    Returns the carrier (a new dict when none is given), for queues and background jobs.
    """
    carrier = {} if carrier is None else carrier
    _CARRIER_PROPAGATOR.inject(carrier)
    return carrier


@contextmanager
def extract_context(carrier: Mapping[str, str]) -> Iterator[None]:
    """Continue, inside the block, the trace, customer and section that `inject_context` wrote."""
    token = context.attach(_CARRIER_PROPAGATOR.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
