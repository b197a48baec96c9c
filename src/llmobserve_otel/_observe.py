"""`observe()`: set up tracing, propagation and usage capture once; what the zero-code path runs too."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from llmobserve_otel._internal.guard import internal_errors

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

_log = logging.getLogger("llmobserve_otel")
_lock = threading.Lock()
_state: dict[str, Any] = {}

# Stock instrumentors that propagate context for the HTTP clients and task queues we support
# (entry-point name -> "module:Class"). Installed before our captures, which wrap outside them.
STOCK_INSTRUMENTORS: dict[str, str] = {
    "httpx": "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
    "httpx2": "opentelemetry.instrumentation.httpx:HTTPX2ClientInstrumentor",
    "requests": "opentelemetry.instrumentation.requests:RequestsInstrumentor",
    "aiohttp-client": "opentelemetry.instrumentation.aiohttp_client:AioHttpClientInstrumentor",
    "celery": "opentelemetry.instrumentation.celery:CeleryInstrumentor",
}


def span_processors() -> list[SpanProcessor]:
    """Our processors, to add to any SDK TracerProvider (attribution first, then cost)."""
    from llmobserve_otel.processors import AttributionSpanProcessor, CostSpanProcessor

    return [AttributionSpanProcessor(), CostSpanProcessor()]


def _exporter_names() -> list[str]:
    value = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    return [] if value in ("", "none") else [name.strip() for name in value.split(",") if name.strip()]


def _otlp_protocol() -> str:
    return (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()


def _exporters() -> list[Any]:
    """Span exporters named by OTEL_TRACES_EXPORTER (default otlp over http/protobuf)."""
    exporters: list[Any] = []
    for name in _exporter_names():
        if name == "otlp" and _otlp_protocol() == "http/protobuf":
            exporters.append(_LazyOTLPExporter())
            continue
        from opentelemetry.sdk._configuration import _import_exporters  # costly; only for other exporters

        if name == "otlp":
            name = "otlp_proto_grpc" if _otlp_protocol() == "grpc" else "otlp_proto_http"
        span_exporters, _, _ = _import_exporters([name], [], [])
        exporters.extend(cls() for cls in span_exporters.values())
    return exporters


class _LazyOTLPExporter:
    """The OTLP/HTTP exporter, imported and built on the export thread at first use.

    Importing it pulls in protobuf and requests (tens of ms); the app's start-up should not pay that.
    """

    def __init__(self) -> None:
        self._inner: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._inner is None:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                self._inner = OTLPSpanExporter()
            return self._inner

    def export(self, spans: Sequence[Any]) -> Any:
        return self._get().export(spans)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner is None or bool(self._inner.force_flush(timeout_millis))

    def shutdown(self) -> None:
        if self._inner is not None:
            self._inner.shutdown()


def _import_httpx_without_cli() -> None:
    """Import httpx with its command-line client (`httpx.main`) loaded on first call instead.

    The stock httpx instrumentation imports httpx even when the app only uses httpx2 (openai >= 3),
    and `import httpx` loads its CLI (click, rich, pygments: ~40 ms) whenever those are installed.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]  # makes `from ._main import main` fail
    try:
        import httpx
    except ImportError:
        return
    finally:
        if "httpx._main" in sys.modules and sys.modules["httpx._main"] is None:
            del sys.modules["httpx._main"]

    fallback = httpx.main  # httpx's stand-in when its CLI cannot load: prints how to install it

    def main(*args: Any, **kwargs: Any) -> Any:
        try:
            from httpx._main import main as cli
        except ImportError:
            return fallback(*args, **kwargs)
        return cli(*args, **kwargs)

    httpx.main = main


def _instrument_stock(name: str) -> None:
    import importlib

    disabled = {n.strip() for n in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    if name in disabled:
        return
    module_name, _, cls_name = STOCK_INSTRUMENTORS[name].partition(":")
    with internal_errors(f"observe.instrument.{name}"):
        if module_name == "opentelemetry.instrumentation.httpx":
            _import_httpx_without_cli()
        instrumentor = getattr(importlib.import_module(module_name), cls_name)()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


_pending: list[tuple[str, bool, bool]] = []


def _on_import(name: str, stock: bool, capture: bool) -> Any:
    """Post-import hook: stock instrumentor first, then our capture outside it.

    Instrumenting one library can import another (httpx2's instrumentation imports httpx), whose
    hook then fires inside ours; such hooks are queued and run once the outer one is done.
    """

    def hook(_module: Any) -> None:
        _pending.append((name, stock, capture))
        if len(_pending) > 1:
            return
        while _pending:
            _instrument_library(*_pending[0])
            _pending.pop(0)

    return hook


def _instrument_library(name: str, stock: bool, capture: bool) -> None:
    if stock:
        _instrument_stock(name)
    if capture:
        from llmobserve_otel import capture as _capture

        with internal_errors(f"observe.capture.{name}"):
            _capture.instrument([name])


def _hook_libraries(*, stock: bool, capture: bool) -> None:
    """Instrument each supported library when it is imported (now, if it already is).

    Deferring to import time keeps `observe()` fast and loads nothing the app does not use.
    """
    from llmobserve_otel._internal.import_hooks import when_imported
    from llmobserve_otel.capture import CAPTURES, LIBRARY_MODULES

    for name in dict.fromkeys([*STOCK_INSTRUMENTORS, *(CAPTURES if capture else ())]):
        hook = _on_import(name, stock and name in STOCK_INSTRUMENTORS, capture and name in CAPTURES)
        when_imported(LIBRARY_MODULES.get(name, name), hook)


def observe(
    service_name: str | None = None,
    *,
    capture: bool = True,
    instrument_libraries: bool = True,
    export: bool | None = None,
) -> trace.TracerProvider:
    """Start cost observability for this process. Idempotent; never raises into the app.

    Args:
        service_name: `service.name` of this process (else OTEL_SERVICE_NAME /
            OTEL_RESOURCE_ATTRIBUTES, as OpenTelemetry defines).
        capture: capture usage of provider calls on the wire (httpx, httpx2).
        instrument_libraries: instrument the stock OTel instrumentations of httpx, httpx2,
            requests, aiohttp and Celery, so trace context and baggage reach internal services
            and workers (never third parties).
        export: add exporters from OTEL_TRACES_EXPORTER (default `otlp`, http/protobuf to
            OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318). Default: only when
            this call creates the TracerProvider; an app's own provider keeps its exporters.

    Returns:
        The SDK TracerProvider in use (the app's own one if it had set one).
    """
    with _lock:
        if "provider" in _state:
            return _state["provider"]  # type: ignore[no-any-return]
        provider: trace.TracerProvider = trace.get_tracer_provider()
        with internal_errors("observe"):
            provider = _configure(provider, service_name, capture, instrument_libraries, export)
        _state["provider"] = provider
        return provider


def _add_pipeline(provider: TracerProvider, *, export: bool) -> None:
    """Our processors, then (when exporting) a batch processor per OTEL_TRACES_EXPORTER exporter."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    for processor in span_processors():
        provider.add_span_processor(processor)
    for exporter in _exporters() if export else ():
        provider.add_span_processor(BatchSpanProcessor(exporter))


def _configure(
    provider: trace.TracerProvider,
    service_name: str | None,
    capture: bool,
    instrument_libraries: bool,
    export: bool | None,
) -> trace.TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    from llmobserve_otel._internal.propagation import install_guard

    if isinstance(provider, TracerProvider):
        _add_pipeline(provider, export=bool(export))  # the app's provider keeps its own exporters
    else:
        attributes = {"service.name": service_name} if service_name else {}
        ours = TracerProvider(resource=Resource.create(attributes))  # sampler from OTEL_TRACES_SAMPLER
        _add_pipeline(ours, export=export is not False)
        trace.set_tracer_provider(ours)
        provider = trace.get_tracer_provider()  # someone may have won the race to set it
    install_guard()
    if capture:
        from llmobserve_otel import capture as _capture

        _capture.configure(provider)
    _hook_libraries(stock=instrument_libraries, capture=capture)
    return provider


def flush(timeout_millis: int = 30_000) -> bool:
    """Export every span ended so far; True when all exporters finished in time."""
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    return bool(force_flush(timeout_millis)) if force_flush else True


def shutdown() -> None:
    """Flush and stop exporting (at process exit the SDK does this by itself)."""
    provider = trace.get_tracer_provider()
    stop = getattr(provider, "shutdown", None)
    if stop is not None:
        stop()


def _reset_for_tests() -> None:
    """Forget that observe() ran (tests only; providers already set stay set)."""
    from llmobserve_otel import capture as _capture

    _capture.uninstrument()
    _state.clear()
