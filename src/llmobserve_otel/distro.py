"""Zero-code entry points: `opentelemetry-instrument python app.py` gives what `observe()` gives.

`LLMObserveDistro` sets the defaults (OTLP over http/protobuf for traces; metrics and logs off
unless asked for, since the product is about traces). `LLMObserveConfigurator` builds the
TracerProvider exactly as `observe()` does. `post_instrument`, run once every instrumentor has
loaded, puts our captures back outside the stock HTTP instrumentations.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.sdk._configuration import _BaseConfigurator

from llmobserve_otel import capture
from llmobserve_otel._internal.guard import internal_errors

_DEFAULTS = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
}


class LLMObserveDistro(BaseDistro):
    """Defaults for zero-code use (capture order is settled by `post_instrument`)."""

    def _configure(self, **kwargs: Any) -> None:
        for key, value in _DEFAULTS.items():
            os.environ.setdefault(key, value)


class LLMObserveConfigurator(_BaseConfigurator):
    """Builds tracing as `observe()` does; `opentelemetry-instrument` then loads the instrumentors."""

    def _configure(self, **kwargs: Any) -> None:
        from llmobserve_otel._observe import observe

        # The stock instrumentors are loaded by opentelemetry-instrument right after this.
        observe(instrument_libraries=False)


def post_instrument() -> None:
    """`opentelemetry_post_instrument` hook: runs after every instrumentor, whichever distro was chosen.

    With another distro or configurator selected (opentelemetry-distro installed beside this one,
    or OTEL_PYTHON_DISTRO naming it), this still adds our processors to the provider it built and
    puts the captures outside the stock HTTP instrumentations. After our own configurator it only
    re-checks the capture order.
    """
    from llmobserve_otel._observe import observe

    with internal_errors("distro.post_instrument"):
        observe(instrument_libraries=False)
        capture.instrument(capture.instrumented())
