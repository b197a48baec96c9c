"""Our wrappers stay outermost when installed again, and removing them never removes another's."""

from __future__ import annotations

import wrapt

from llmobserve_otel.capture._patch import is_outermost, unwrap_outermost, wrap_outermost


class Target:
    def call(self) -> list[str]:
        return ["original"]


def ours(wrapped, instance, args, kwargs):
    return ["ours", *wrapped(*args, **kwargs)]


def theirs(wrapped, instance, args, kwargs):
    return ["theirs", *wrapped(*args, **kwargs)]


def test_wrap_is_idempotent_and_goes_back_on_top():
    original = Target.__dict__["call"]
    wrap_outermost(Target, "call", ours)
    wrap_outermost(Target, "call", ours)
    assert Target().call() == ["ours", "original"]
    wrapt.wrap_function_wrapper(Target, "call", theirs)  # another instrumentation wraps on top
    assert not is_outermost(Target, "call", ours)
    wrap_outermost(Target, "call", ours)
    assert Target().call() == ["ours", "theirs", "ours", "original"]
    unwrap_outermost(Target, "call", ours)
    assert Target().call() == ["theirs", "ours", "original"]
    unwrap_outermost(Target, "call", ours)  # theirs is on top now: ours stays, theirs is not touched
    assert Target().call() == ["theirs", "ours", "original"]
    Target.call = original


def test_unwrap_leaves_a_foreign_wrapper_alone():
    original = Target.__dict__["call"]
    wrapt.wrap_function_wrapper(Target, "call", theirs)
    unwrap_outermost(Target, "call", ours)
    assert Target().call() == ["theirs", "original"]
    Target.call = original
