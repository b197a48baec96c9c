"""Known spans for the dashboard tests: five traces in range, one before it, with explicit costs.

Costs are the list prices of each model times the tokens (USD per million tokens, from the
providers' pricing pages): gpt-4o 2.50 in / 10.00 out, gpt-4o-mini 0.15 / 0.60, claude-sonnet-4-5
3.00 / 15.00; a Pinecone query is given a flat 0.0004. The arithmetic is written beside each call.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import insert_spans, refresh_views
from llmobserve_otel.store._rows import span_row, string_map

MIN = 60 * 1_000_000_000
H0 = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z
FROM_MS = (H0 - 60 * MIN) // 1_000_000  # 09:00
TO_MS = (H0 + 6 * 60 * MIN) // 1_000_000  # 16:00


@dataclass(frozen=True)
class Call:
    trace: str
    span: str
    parent: str
    minute: int
    customer: str
    service: str
    provider: str
    model: str
    section: str
    input_tokens: int
    output_tokens: int
    cost: Decimal


def _d(text: str) -> Decimal:
    return Decimal(text)


CALLS: tuple[Call, ...] = (
    # T1, acme, support agent at 10:10: draft (gpt-4o), a lookup tool (pinecone), review (claude)
    Call(
        "t1",
        "c1",
        "s2",
        10,
        "acme",
        "support",
        "openai",
        "gpt-4o",
        "agent:support/step:draft",
        1000,
        200,
        _d("0.0045"),
    ),  # 1000*2.5e-6 + 200*10e-6
    Call(
        "t1",
        "c2",
        "s3",
        11,
        "acme",
        "support",
        "pinecone",
        "",
        "agent:support/step:draft/tool:lookup",
        0,
        0,
        _d("0.0004"),
    ),
    Call(
        "t1",
        "c3",
        "s4",
        12,
        "acme",
        "support",
        "anthropic",
        "claude-sonnet-4-5",
        "agent:support/step:review",
        2000,
        500,
        _d("0.0135"),
    ),  # 2000*3e-6 + 500*15e-6
    # T2, globex, support agent at 11:10
    Call(
        "t2",
        "c4",
        "",
        70,
        "globex",
        "support",
        "openai",
        "gpt-4o-mini",
        "agent:support/step:draft",
        4000,
        1000,
        _d("0.0012"),
    ),  # 4000*0.15e-6 + 1000*0.6e-6
    Call(
        "t2",
        "c5",
        "",
        71,
        "globex",
        "support",
        "openai",
        "gpt-4o",
        "agent:support/step:review",
        2000,
        400,
        _d("0.009"),
    ),  # 2000*2.5e-6 + 400*10e-6
    # T3, acme, research agent at 12:10
    Call(
        "t3",
        "c6",
        "",
        130,
        "acme",
        "research",
        "openai",
        "gpt-4o",
        "agent:research/step:plan",
        3000,
        1000,
        _d("0.0175"),
    ),  # 3000*2.5e-6 + 1000*10e-6
    Call(
        "t3",
        "c7",
        "",
        131,
        "acme",
        "research",
        "anthropic",
        "claude-sonnet-4-5",
        "agent:research/step:write",
        1000,
        1000,
        _d("0.018"),
    ),  # 1000*3e-6 + 1000*15e-6
    # T4, o'brien (a quote in the id), no section, at 13:10
    Call(
        "t4", "c8", "", 190, "o'brien", "research", "openai", "gpt-4o-mini", "", 1000, 100, _d("0.00021")
    ),  # 1000*0.15e-6 + 100*0.6e-6
    # T5, acme, support agent at 14:10
    Call(
        "t5",
        "c9",
        "",
        250,
        "acme",
        "support",
        "openai",
        "gpt-4o",
        "agent:support/step:draft",
        500,
        100,
        _d("0.00225"),
    ),  # 500*2.5e-6 + 100*10e-6
)
OUT_OF_RANGE = Call(
    "t0",
    "c0",
    "",
    -180,
    "acme",
    "support",
    "openai",
    "gpt-4o",
    "agent:support/step:draft",
    100_000,
    0,
    _d("0.25"),
)  # 07:00, before the range

# T1: h1 POST /ask -> s1 agent:support -> s2 step:draft -> s3 tool:lookup; s1 -> s4 step:review
SECTION_SPANS = (
    ("t1", "s1", "h1", 9, "agent:support"),
    ("t1", "s2", "s1", 9, "agent:support/step:draft"),
    ("t1", "s3", "s2", 10, "agent:support/step:draft/tool:lookup"),
    ("t1", "s4", "s1", 11, "agent:support/step:review"),
)


def trace_id(label: str) -> str:
    return label.encode().hex().rjust(32, "0")


def span_id(label: str) -> str:
    return label.encode().hex().rjust(16, "0") if label else ""


def _row(
    trace: str, span: str, parent: str, minute: int, name: str, service: str, attributes: dict[str, Any]
) -> Any:
    start = H0 + minute * MIN
    proto = Span(
        trace_id=bytes.fromhex(trace_id(trace)),
        span_id=bytes.fromhex(span_id(span)),
        parent_span_id=bytes.fromhex(span_id(parent)) if parent else b"",
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 2_000_000_000,
    )
    return span_row(
        proto,
        service_name=service,
        resource_attributes={"service.name": service},
        scope_name="tests",
        scope_version="1",
        span_attributes=string_map(attributes),
    )


def call_row(call: Call) -> Any:
    attributes: dict[str, Any] = {
        sc.PROVIDER: call.provider,
        sc.GEN_AI_USAGE_INPUT_TOKENS: call.input_tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: call.output_tokens,
        sc.COST_USD: str(call.cost),
        sc.COST_SOURCE: sc.SOURCE_SDK,
        sc.COST_STATUS: sc.STATUS_PRICED,
        sc.CUSTOMER_ID: call.customer,
    }
    if call.model:
        attributes[sc.GEN_AI_REQUEST_MODEL] = call.model
    if call.section:
        attributes[sc.SECTION_PATH] = call.section
    name = f"chat {call.model}" if call.model else f"{call.provider} query"
    return _row(call.trace, call.span, call.parent, call.minute, name, call.service, attributes)


def rows() -> list[Any]:
    out = [call_row(c) for c in (*CALLS, OUT_OF_RANGE)]
    for trace, span, parent, minute, path in SECTION_SPANS:
        name = path.rsplit("/", 1)[-1]
        kind, _, short = name.partition(":")
        attributes = {
            sc.SECTION_PATH: path,
            sc.SECTION_NAME: short,
            sc.SECTION_KIND: kind,
            sc.CUSTOMER_ID: "acme",
        }
        out.append(_row(trace, span, parent, minute, name, "support", attributes))
    # A span that is not a call (an HTTP server span): in otel_traces, never in the cost tables.
    out.append(_row("t1", "h1", "", 8, "POST /ask", "support", {"http.request.method": "POST"}))
    return out


def seed(client: Any) -> None:
    insert_spans(client, rows())
    refresh_views(client)  # the run-hours states refresh every 10 s; now, for the tests
