"""Writing known spans into a store for the store tests (imported by the test modules)."""

from __future__ import annotations

import itertools
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmobserve_otel.store import insert_spans
from llmobserve_otel.store._rows import span_row, string_map

_span_ids = itertools.count(1)


def span(
    ts_ns: int,
    trace: str,
    attributes: dict[str, Any],
    *,
    service: str = "agent",
    span_id: int | None = None,
    name: str = "call",
) -> list[Any]:
    """One otel_traces row; `trace` is a short label turned into a 32-hex-digit id."""
    trace_id = trace.encode().hex().rjust(32, "0")[-32:]
    sid = span_id if span_id is not None else next(_span_ids)
    proto = Span(
        trace_id=bytes.fromhex(trace_id),
        span_id=sid.to_bytes(8, "big"),
        name=name,
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=ts_ns,
        end_time_unix_nano=ts_ns + 1_000_000,
    )
    return span_row(
        proto,
        service_name=service,
        resource_attributes={"service.name": service},
        scope_name="tests",
        scope_version="1",
        span_attributes=string_map(attributes),
    )


def insert(client: Any, rows: list[list[Any]]) -> None:
    insert_spans(client, rows)
