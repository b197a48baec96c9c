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


def test_provider_requests_skip_only_the_stock_httpx_wrapper():
    """`_past_stock` drops the stock httpx instrumentation's wrapper (a `partial` that only calls
    through while HTTP instrumentation is suppressed) and keeps any other, `partial` or not."""
    from functools import partial

    from opentelemetry.instrumentation.httpx import _BaseHTTPXClientInstrumentor

    from llmobserve_otel.capture._httpx_base import _past_stock

    def foreign(wrapped, instance, args, kwargs, *, tag):
        return [tag, *wrapped(*args, **kwargs)]

    class Foreign:
        def call(self) -> list[str]:
            return ["original"]

    class Stock:
        def call(self) -> list[str]:
            return ["original"]

    wrapt.wrap_function_wrapper(Foreign, "call", partial(foreign, tag="foreign"))
    wrapt.wrap_function_wrapper(Foreign, "call", theirs)
    stock = partial(_BaseHTTPXClientInstrumentor._handle_request_wrapper, module=None, tracer=None)
    wrapt.wrap_function_wrapper(Stock, "call", stock)
    for target in (Foreign().call, Foreign.call.__wrapped__.__get__(Foreign())):
        assert _past_stock(target) is target
    assert Foreign().call() == ["theirs", "foreign", "original"]
    assert _past_stock(Stock().call)() == ["original"]
