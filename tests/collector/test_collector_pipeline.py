"""Request -> rows: id rejection, duplicates, attribute type checks, the pricing hook (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from span_factory import T0, make_request, make_span

from llmobserve_otel import semconv as sc
from llmobserve_otel.collector._dedupe import SeenWindow
from llmobserve_otel.collector._pipeline import request_rows
from llmobserve_otel.collector._validate import InvalidAttributeError
from llmobserve_otel.store import TRACES_INSERT_COLUMNS


def columns(row: list[Any]) -> dict[str, Any]:
    return dict(zip(TRACES_INSERT_COLUMNS, row, strict=True))


def test_maps_every_span_with_resource_and_scope() -> None:
    batch = request_rows(make_request(make_span(1, {"a": 1}), make_span(2), service="svc"))
    assert [columns(r)["SpanId"] for r in batch.rows] == ["0000000000000001", "0000000000000002"]
    first = columns(batch.rows[0])
    assert (first["ServiceName"], first["ScopeName"], first["ScopeVersion"], first["SpanAttributes"]) == (
        "svc",
        "tests",
        "1",
        {"a": "1"},
    )
    assert batch.keys == [(1).to_bytes(16, "big") + (n).to_bytes(8, "big") for n in (1, 2)]
    assert (batch.rejected, batch.duplicates, batch.error_message) == (0, 0, "")


def test_invalid_ids_are_rejected_not_the_request() -> None:
    zero_trace = make_span(3)
    zero_trace.trace_id = bytes(16)
    short_span = make_span(4)
    short_span.span_id = b"\x01\x02"
    batch = request_rows(make_request(make_span(1), zero_trace, short_span, make_span(2)))
    assert len(batch.rows) == 2
    assert batch.rejected == 2
    assert batch.error_message == (
        "span 1 ('call'): invalid trace id '00000000000000000000000000000000'; span 2 ('call'): invalid span id '0102'"
    )


def test_error_message_is_bounded() -> None:
    spans = []
    for n in range(1, 9):
        span = make_span(n)
        span.trace_id = b""
        spans.append(span)
    batch = request_rows(make_request(*spans))
    assert batch.rejected == 8
    assert batch.error_message.endswith("; and 3 more")
    assert batch.error_message.count("invalid trace id") == 5


def test_duplicates_within_a_request_and_from_the_window_are_dropped() -> None:
    seen = SeenWindow(100)
    seen.add_all([(1).to_bytes(16, "big") + (5).to_bytes(8, "big")])
    batch = request_rows(make_request(make_span(1), make_span(1), make_span(5), make_span(6)), seen=seen)
    assert [columns(r)["SpanId"][-1] for r in batch.rows] == ["1", "6"]
    assert (batch.duplicates, batch.rejected) == (2, 0)


def test_seen_window_is_bounded_and_forgets_oldest_generation() -> None:
    window = SeenWindow(4)  # two generations of two keys
    window.add_all([b"a", b"b", b"c", b"d", b"e"])
    assert b"a" not in window and b"b" not in window
    assert all(k in window for k in (b"c", b"d", b"e"))
    assert len(window) == 3


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {sc.COST_USD: "0.01"},
            "attribute 'llmobserve.cost.usd' must be a non-negative number, got str '0.01'",
        ),
        ({sc.COST_USD: -1.0}, "'llmobserve.cost.usd' must be a finite non-negative number"),
        ({sc.COST_USD: True}, "'llmobserve.cost.usd' must be a non-negative number, got bool True"),
        ({sc.GEN_AI_USAGE_INPUT_TOKENS: "12"}, "'gen_ai.usage.input_tokens' must be a non-negative integer"),
        ({sc.GEN_AI_USAGE_OUTPUT_TOKENS: 1.5}, "'gen_ai.usage.output_tokens' must be a non-negative integer"),
        ({sc.GEN_AI_USAGE_OUTPUT_TOKENS: -3}, "'gen_ai.usage.output_tokens' must be a non-negative integer"),
        ({sc.CUSTOMER_ID: 42}, "'llmobserve.customer.id' must be a string, got int 42"),
        ({sc.SECTION_PATH: ["agent:a"]}, "'llmobserve.section.path' must be a string"),
        ({sc.PROVIDER: b"openai"}, "'llmobserve.provider' must be a string"),
        (
            {sc.USAGE_PREFIX + "characters": "many"},
            "'llmobserve.usage.characters' must be a non-negative number",
        ),
    ],
)
def test_wrong_attribute_types_refuse_the_whole_request(attributes: dict, message: str) -> None:
    request = make_request(make_span(1, {sc.COST_USD: 0.5}), make_span(2, attributes, name="chat"))
    with pytest.raises(InvalidAttributeError) as info:
        request_rows(request)
    assert str(info.value).startswith("span 1 ('chat'): ")
    assert message in str(info.value)


def test_right_types_pass() -> None:
    attributes = {
        sc.COST_USD: 0,
        sc.GEN_AI_USAGE_INPUT_TOKENS: 12,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 3.0,  # a JS exporter sends whole numbers as doubles
        sc.USAGE_PREFIX + "seconds": 1.5,
        sc.USAGE_INCOMPLETE: True,
        sc.USAGE_STATUS: "truncated",
        sc.CUSTOMER_ID: "acme",
    }
    assert len(request_rows(make_request(make_span(1, attributes))).rows) == 1


def test_pricer_adds_attributes_only_to_candidate_spans() -> None:
    calls: list[tuple[dict, int]] = []

    def pricer(attributes: Mapping[str, Any], timestamp_ns: int) -> Mapping[str, Any]:
        calls.append((dict(attributes), timestamp_ns))
        if sc.GEN_AI_USAGE_INPUT_TOKENS in attributes:
            return {
                sc.COST_USD: 0.00725,
                sc.COST_SOURCE: sc.SOURCE_COLLECTOR,
                sc.COST_STATUS: sc.STATUS_PRICED,
            }
        return {}

    request = make_request(
        make_span(1, {sc.GEN_AI_USAGE_INPUT_TOKENS: 100, sc.GEN_AI_REQUEST_MODEL: "gpt-4o"}),
        make_span(2, {sc.SECTION_PATH: "agent:a"}),
        make_span(3, {"http.route": "/"}),  # no gen_ai/llmobserve attribute: never a paid call
    )
    batch = request_rows(request, pricer=pricer)
    assert [a for a, _ in calls] == [
        {sc.GEN_AI_USAGE_INPUT_TOKENS: 100, sc.GEN_AI_REQUEST_MODEL: "gpt-4o"},
        {sc.SECTION_PATH: "agent:a"},
    ]
    assert calls[0][1] == T0
    assert columns(batch.rows[0])["SpanAttributes"] == {
        sc.GEN_AI_USAGE_INPUT_TOKENS: "100",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.COST_USD: "0.00725",
        sc.COST_SOURCE: "collector",
        sc.COST_STATUS: "priced",
    }
    assert columns(batch.rows[1])["SpanAttributes"] == {sc.SECTION_PATH: "agent:a"}
