"""Usage capture on the wire: which client libraries are hooked, installed and removed together.

Each capture must wrap OUTSIDE the stock OpenTelemetry HTTP instrumentation of the same library
(it decides whether the stock span and its propagation headers happen at all), so it is installed
after the stock instrumentor, and `instrument` puts it back outside whatever wrapped on top since.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace

from llmobserve_otel._internal.env import env_flag
from llmobserve_otel._internal.hosts import reset_cache
from llmobserve_otel.capture import _guards
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.capture.httpx import CAPTURE as HTTPX
from llmobserve_otel.capture.httpx2 import CAPTURE as HTTPX2
from llmobserve_otel.providers import Registry

__all__ = ("CAPTURES", "configure", "instrument", "instrumented", "uninstrument")

# Stock instrumentor entry-point name -> our capture of the same library.
CAPTURES: dict[str, Any] = {
    "httpx": HTTPX,
    "httpx2": HTTPX2,
    "requests": _guards.REQUESTS,
    "aiohttp-client": _guards.AIOHTTP,
}

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


def instrument(names: list[str]) -> None:
    """Install (or put back outermost) the captures of the named libraries; idempotent.

    Called from each library's post-import hook, and again once every instrumentor has loaded,
    since a stock instrumentor may have wrapped on top of ours meanwhile.
    """
    configure()
    for name in names:
        capture = CAPTURES.get(name)
        if capture is not None:
            capture.instrument(_state["registry"], _state["config"])


def instrumented() -> list[str]:
    return [name for name, capture in CAPTURES.items() if capture.instrumented]


def uninstrument() -> None:
    for capture in CAPTURES.values():
        capture.uninstrument()
    _state.clear()
