"""A decoded ExportTraceServiceRequest -> `otel_traces` rows: validate, dedupe, price, map. Pure.

The order matters: a span is checked and priced before any row is produced, and a request with an
invalid attribute produces no rows at all, so nothing of a refused request is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from llmobserve_otel.collector._validate import check_attributes
from llmobserve_otel.store._rows import attributes_and_strings, resource_fields, span_row, string_map

__all__ = ("Batch", "Pricer", "request_rows")

Pricer = Callable[[Mapping[str, Any], int], Mapping[str, Any]]
"""(span attributes, span start in Unix ns) -> attributes to add (empty: nothing to add)."""

# Only spans with GenAI or llmobserve attributes can be paid calls; skipping the pricing core for
# the rest (HTTP servers, DB calls, ...) keeps the common span cheap.
_PRICEABLE_PREFIXES = ("gen_ai.", "llmobserve.")
_MAX_ERRORS = 5


@dataclass
class Batch:
    """What a request turned into."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    """trace_id + span_id of each row, to remember once the rows are accepted."""
    rejected: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def error_message(self) -> str:
        more = self.rejected - len(self.errors)
        return "; ".join(self.errors) + (f"; and {more} more" if more > 0 else "")


def _reject(batch: Batch, message: str) -> None:
    batch.rejected += 1
    if len(batch.errors) < _MAX_ERRORS:
        batch.errors.append(message)


def request_rows(
    request: ExportTraceServiceRequest,
    *,
    pricer: Pricer | None = None,
    seen: Container[bytes] = frozenset(),
) -> Batch:
    """Map every span of `request` to a row.

    Spans with an invalid trace or span id are rejected (counted for `partial_success`); spans
    whose key is in `seen` or repeated in the request are dropped as duplicates (they are already
    stored, so they are not rejections). Raises InvalidAttributeError for a pinned attribute of
    the wrong type, before any row exists.
    """
    batch = Batch()
    in_request: set[bytes] = set()
    index = -1
    for resource_spans in request.resource_spans:
        service_name, resource_attributes = resource_fields(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            scope_version = scope_spans.scope.version
            for span in scope_spans.spans:
                index += 1
                trace_id = span.trace_id
                span_id = span.span_id
                if len(trace_id) != 16 or not trace_id.strip(b"\x00"):
                    _reject(batch, f"span {index} ({span.name!r}): invalid trace id {trace_id.hex()!r}")
                    continue
                if len(span_id) != 8 or not span_id.strip(b"\x00"):
                    _reject(batch, f"span {index} ({span.name!r}): invalid span id {span_id.hex()!r}")
                    continue
                key = trace_id + span_id
                if key in in_request or key in seen:
                    batch.duplicates += 1
                    continue
                in_request.add(key)
                attributes, strings = attributes_and_strings(span.attributes)
                check_attributes(attributes, span.name, index)
                if pricer is not None and any(map(str.startswith, attributes, repeat(_PRICEABLE_PREFIXES))):
                    added = pricer(attributes, span.start_time_unix_nano)
                    if added:
                        strings.update(string_map(added))
                batch.rows.append(
                    span_row(
                        span,
                        service_name=service_name,
                        resource_attributes=resource_attributes,
                        scope_name=scope_name,
                        scope_version=scope_version,
                        span_attributes=strings,
                    )
                )
                batch.keys.append(key)
    return batch
