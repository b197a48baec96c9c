"""Our wrapt wrappers on client libraries: installed outermost, removed only while still outermost.

A capture must wrap outside the stock instrumentation of the same library, which may wrap on top
of ours later; `wrap_outermost` then wraps once more (the copy left inside stays inert, see each
capture's re-entry guard). `unwrap_outermost` removes ours only when nobody wrapped on top of it,
and never someone else's wrapper.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import wrapt

from llmobserve_otel.capture._proxy_route import configured

if TYPE_CHECKING:
    from llmobserve_otel.capture._call import CaptureConfig
    from llmobserve_otel.capture._proxy_route import ProxyRoute
    from llmobserve_otel.providers import Registry


def is_outermost(owner: Any, name: str, wrapper: Any) -> bool:
    """`owner.name` (a class or module attribute) is wrapped by `wrapper`, outermost."""
    current = vars(owner).get(name)
    # `==`, not `is`: a bound method is a new object at each attribute access.
    return isinstance(current, wrapt.FunctionWrapper) and current._self_wrapper == wrapper  # type: ignore[attr-defined]


def wrap_outermost(owner: Any, name: str, wrapper: Any) -> None:
    """Wrap `owner.name` with `wrapper` unless it already is, outermost (idempotent)."""
    if not is_outermost(owner, name, wrapper):
        wrapt.wrap_function_wrapper(owner, name, wrapper)


def unwrap_outermost(owner: Any, name: str, wrapper: Any) -> None:
    """Remove `wrapper` from `owner.name` when it is the outermost wrapper there."""
    if is_outermost(owner, name, wrapper):
        setattr(owner, name, vars(owner)[name].__wrapped__)


class MethodCapture:
    """A capture made of one wrapper, `self._wrap`, on one method `module.owner.attribute`.

    Keeps what `capture.instrument` hands it (registry, settings, `LLMOBSERVE_PROXY_URL`) and
    installs/removes the wrapper outermost; subclasses define `_wrap` and may extend `_prepare`.
    """

    def __init__(self, module: str, owner: str, attribute: str) -> None:
        self._where = (module, owner, attribute)
        self._cls: Any = None
        self._registry: Registry | None = None
        self._config: CaptureConfig | None = None
        self._proxy: ProxyRoute | None = None

    @property
    def instrumented(self) -> bool:
        return self._cls is not None

    def instrument(self, registry: Registry | None = None, config: CaptureConfig | None = None) -> bool:
        """Wrap the method so ours is outermost (again, if another wrapped on top); False when the
        library is not installed. Idempotent."""
        module, owner, attribute = self._where
        try:
            cls = getattr(importlib.import_module(module), owner)
        except (ImportError, AttributeError):
            return False
        if registry is not None:
            self._registry, self._config, self._proxy = registry, config, configured()
        self._prepare()
        wrap_outermost(cls, attribute, self._wrap)
        self._cls = cls
        return True

    def uninstrument(self) -> None:
        if self._cls is not None:
            unwrap_outermost(self._cls, self._where[2], self._wrap)
            self._cls = None

    def _prepare(self) -> None:
        """Once the library is importable, before the wrapper goes in."""

    def _wrap(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        raise NotImplementedError
