"""`section()` as context manager and decorator (functions, coroutines, generators), and `customer()`."""

from __future__ import annotations

import pytest

import llmobserve_otel as lo


def attrs_of(spans, name: str) -> dict:
    (span,) = spans.named(name)
    return dict(span.attributes)


def test_nested_sections_path_kind_name(spans):
    with lo.customer("acme"), lo.section("agent:research"), lo.section("step:plan"), lo.section("tool:x"):
        assert lo.current_section_path() == "agent:research/step:plan/tool:x"
        assert lo.current_customer_id() == "acme"
    tool = attrs_of(spans, "tool:x")
    assert tool == {
        "llmobserve.section.path": "agent:research/step:plan/tool:x",
        "llmobserve.section.kind": "tool",
        "llmobserve.section.name": "x",
        "llmobserve.customer.id": "acme",
    }
    agent = spans.named("agent:research")[0]
    assert tool and spans.named("tool:x")[0].parent.span_id == spans.named("step:plan")[0].context.span_id
    assert spans.named("step:plan")[0].parent.span_id == agent.context.span_id
    assert lo.current_section_path() is None and lo.current_customer_id() is None


def test_name_without_kind(spans):
    with lo.section("cleanup"):
        pass
    assert attrs_of(spans, "cleanup") == {
        "llmobserve.section.path": "cleanup",
        "llmobserve.section.name": "cleanup",
    }


def test_decorator_function_records_errors(spans):
    @lo.section("tool:fail")
    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fail()
    (span,) = spans.named("tool:fail")
    assert span.status.status_code.name == "ERROR"
    assert span.events[0].name == "exception"


async def test_decorator_coroutine(spans):
    @lo.section("step:async")
    async def work() -> str | None:
        return lo.current_section_path()

    with lo.section("agent:x"):
        assert await work() == "agent:x/step:async"
    assert attrs_of(spans, "step:async")["llmobserve.section.path"] == "agent:x/step:async"


def test_decorator_generator_does_not_leak_between_yields(spans):
    @lo.section("tool:gen")
    def gen():
        for i in range(3):
            assert lo.current_section_path() == "tool:gen"
            yield i

    out = []
    for item in gen():
        assert lo.current_section_path() is None  # the consumer is outside the section
        out.append(item)
    assert out == [0, 1, 2]
    assert len(spans.named("tool:gen")) == 1


async def test_decorator_async_generator(spans):
    @lo.section("tool:agen")
    async def agen():
        for i in range(2):
            assert lo.current_section_path() == "tool:agen"
            yield i

    assert [i async for i in agen()] == [0, 1]
    assert lo.current_section_path() is None
    assert len(spans.named("tool:agen")) == 1


def test_inject_extract_round_trip(spans):
    with lo.customer("acme"), lo.section("agent:producer"):
        headers = lo.inject_context()
    assert "traceparent" in headers and "llmobserve.customer.id=acme" in headers["baggage"]
    with lo.extract_context(headers), lo.section("step:consumer"):
        pass
    consumer = spans.named("step:consumer")[0]
    producer = spans.named("agent:producer")[0]
    assert consumer.context.trace_id == producer.context.trace_id
    assert consumer.attributes["llmobserve.customer.id"] == "acme"
    assert consumer.attributes["llmobserve.section.path"] == "agent:producer/step:consumer"


def test_section_name_must_be_text():
    with pytest.raises(ValueError):
        lo.section("")
