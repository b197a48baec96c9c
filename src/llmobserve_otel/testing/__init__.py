"""Test helpers: a local OpenAI / Anthropic provider simulator (stdlib only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .simulator import ProviderSimulator, RecordedRequest

__all__ = ["ProviderSimulator", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m llmobserve_otel.testing.simulator` does not import the module twice
    # (runpy warns when the package already imported the module it is about to run).
    if name in __all__:
        from . import simulator

        return getattr(simulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
