"""Usage capture on the wire: which client libraries are hooked, installed and removed together.

Each capture must wrap OUTSIDE the stock OpenTelemetry HTTP instrumentation of the same library
(it decides whether the stock span and its propagation headers happen at all), so it is installed
after the stock instrumentor, and `instrument` puts it back outside whatever wrapped on top since.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from opentelemetry import trace

from llmobserve_otel._internal.env import env_flag
from llmobserve_otel._internal.hosts import reset_cache
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.providers import Registry

__all__ = (
    "CAPTURES",
    "LIBRARY_MODULES",
    "configure",
    "instrument",
    "instrumented",
    "registry",
    "uninstrument",
)

_log = logging.getLogger(__name__)

# Library name (the stock instrumentor's entry-point name where there is one) -> our capture of it,
# as "module:attribute", imported only once the app imports the library. Each capture has
# `instrument(registry, config) -> bool`, `uninstrument()` and `instrumented`.
CAPTURES: dict[str, str] = {
    "httpx": "llmobserve_otel.capture.httpx:CAPTURE",
    "httpx2": "llmobserve_otel.capture.httpx2:CAPTURE",
    "requests": "llmobserve_otel.capture._guards:REQUESTS",
    "aiohttp-client": "llmobserve_otel.capture.aiohttp:CAPTURE",
    "urllib3": "llmobserve_otel.capture.urllib3:CAPTURE",
    "grpc": "llmobserve_otel.capture.grpc:CAPTURE",
    "websockets": "llmobserve_otel.capture.websockets:CAPTURE",
    "pymongo": "llmobserve_otel.capture.pymongo:CAPTURE",
    "redis": "llmobserve_otel.capture.redis:CAPTURE",
    "urllib": "llmobserve_otel.capture.urllib:CAPTURE",
}
# Library name -> the module whose import triggers instrumenting it (where the two differ).
LIBRARY_MODULES: dict[str, str] = {"aiohttp-client": "aiohttp", "urllib": "urllib.request"}

_loaded: dict[str, Any] = {}


def _capture(name: str) -> Any:
    """The capture object for `name`, imported on first use; None when there is none."""
    if name not in _loaded:
        target = CAPTURES.get(name)
        capture = None
        if target is not None:
            module_name, _, attribute = target.partition(":")
            try:
                capture = getattr(importlib.import_module(module_name), attribute)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                _log.debug("llmobserve: no capture module for %s", name)
        _loaded[name] = capture
    return _loaded[name]


_state: dict[str, Any] = {}


def configure(tracer_provider: trace.TracerProvider | None = None) -> None:
    """Resolve the provider registry and settings once (idempotent)."""
    if not _state:
        from llmobserve_otel import __version__

        reset_cache()
        _state["registry"] = Registry(os.environ.get("LLMOBSERVE_PROVIDER_HOSTS"))
        _state["config"] = CaptureConfig(
            tracer=trace.get_tracer("llmobserve_otel.capture", __version__, tracer_provider),
            max_body_bytes=int(os.environ.get("LLMOBSERVE_MAX_BODY_BYTES", 8 * 1024 * 1024)),
            capture_content=env_flag("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", default=False),
        )


def registry() -> Registry:
    """The provider registry the captures use (configured on first call)."""
    configure()
    return _state["registry"]  # type: ignore[no-any-return]


def instrument(names: list[str]) -> None:
    """Install (or put back outermost) the captures of the named libraries; idempotent.

    Called from each library's post-import hook, and again once every instrumentor has loaded,
    since a stock instrumentor may have wrapped on top of ours meanwhile.
    """
    configure()
    for name in names:
        capture = _capture(name)
        if capture is not None:
            capture.instrument(_state["registry"], _state["config"])


def instrumented() -> list[str]:
    return [name for name, capture in _loaded.items() if capture is not None and capture.instrumented]


def uninstrument() -> None:
    for capture in _loaded.values():
        if capture is not None:
            capture.uninstrument()
    _state.clear()
