"""Our wrapt wrappers on client libraries: installed outermost, removed only while still outermost.

A capture must wrap outside the stock instrumentation of the same library, which may wrap on top
of ours later; `wrap_outermost` then wraps once more (the copy left inside stays inert, see each
capture's re-entry guard). `unwrap_outermost` removes ours only when nobody wrapped on top of it,
and never someone else's wrapper.
"""

from __future__ import annotations

from typing import Any

import wrapt


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
