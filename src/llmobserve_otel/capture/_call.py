"""One provider call as a span: started before the request, ended once when its body is done.

Transport-independent: the httpx/httpx2 (and later other) captures feed it the request, the
response head and the body chunks. It replaces the stock HTTP client span for provider hosts
(CLIENT kind, HTTP attributes included), so a call yields exactly one span.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ConcurrentMultiSpanProcessor, SynchronousMultiSpanProcessor, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal import priced
from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel._internal.span_attributes import set_attributes as _set_attributes
from llmobserve_otel.capture._body import BodyObserver
from llmobserve_otel.processors import AttributionSpanProcessor, CostSpanProcessor
from llmobserve_otel.providers import Route, Usage
from llmobserve_otel.providers._json import loads_bytes
from llmobserve_otel.providers._types import PRICED_TOKEN_FIELDS


@dataclass(frozen=True)
class CaptureConfig:
    """Settings resolved once at instrument time."""

    tracer: trace.Tracer
    max_body_bytes: int = 8 * 1024 * 1024
    capture_content: bool = False
    price_source: str | None = sc.SOURCE_SDK
    """`llmobserve.cost.source` of the cost set at the end of the call; None leaves pricing downstream."""


@dataclass(slots=True)
class RequestView:
    """What the capture needs of a request, read without consuming it."""

    method: str
    scheme: str
    host: str
    port: int | None
    path: str
    body: bytes | None
    content_type: str | None = None


def _decode_body(body: bytes | None, content_type: str | None, limit: int) -> Any:
    """The request body as a provider module reads it: JSON, or form fields (Stripe, Twilio) as a dict."""
    if not body or len(body) > limit:
        return None
    kind = content_type.lower() if content_type else ""
    try:
        if kind.startswith("application/x-www-form-urlencoded"):
            return {
                key: values[-1] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()
            }
        if kind.startswith("multipart/form-data"):
            return _multipart_fields(body, content_type)  # type: ignore[arg-type]
        if kind.startswith("application/ssml+xml"):
            return body.decode()  # Azure Speech TTS bills the characters of the SSML document's text
        return loads_bytes(body)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_FIELD_NAME = re.compile(rb'\bname="([^"]*)"')


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The text fields of a multipart/form-data body (file parts skipped), e.g. Stability's `model`."""
    found = _BOUNDARY.search(content_type)
    if found is None:
        return {}
    fields: dict[str, str] = {}
    for part in body.split(b"--" + found.group(1).encode())[1:]:
        head, sep, value = part.partition(b"\r\n\r\n")
        name = _FIELD_NAME.search(head)
        if sep and name is not None and b"filename=" not in head:
            fields[name.group(1).decode()] = value.removesuffix(b"\r\n").decode()
    return fields


class ProviderCall:
    """The span of one provider call and what is known about it."""

    __slots__ = (
        "_attrs",
        "_config",
        "_done",
        "_head_usage",
        "_lock",
        "_observer",
        "_provider",
        "_route",
        "_start_keys",
        "_start_ns",
        "_units",
        "span",
        "stream_requested",
    )

    def __init__(
        self,
        config: CaptureConfig,
        provider: Any,
        route: Route,
        request: RequestView,
        parent: Context | None = None,
    ) -> None:
        """`parent`: the context the span starts in (default: the current one)."""
        self._config = config
        self._provider = provider
        self._route = route
        self._lock = threading.Lock()
        self._done = False
        self._observer: BodyObserver | None = None
        self._start_ns = time.time_ns()
        body = _decode_body(request.body, request.content_type, config.max_body_bytes)
        info = provider.request_info(route, body)
        self.stream_requested: bool = info.get("stream", False)
        self._units: dict[str, float] = dict(info.get("units") or {})
        """Units known before the body: from the request, then response headers; the body's win."""
        self._head_usage: Usage | None = None
        """Tokens from response headers (Bedrock InvokeModel); the body's win field by field."""
        model = info.get("model") or route.model
        attrs: dict[str, Any] = {
            sc.PROVIDER: provider.NAME,
            sc.OPERATION: route.operation,
            sc.CAPTURE: "wire",
            sc.HTTP_REQUEST_METHOD: request.method,
            sc.SERVER_ADDRESS: request.host,
            # No query string: some APIs take keys there.
            sc.URL_FULL: f"{request.scheme}://{request.host}{_port(request)}{request.path}",
        }
        if request.port is not None:
            attrs[sc.SERVER_PORT] = request.port
        if model:  # speech, image and video APIs are priced by model too
            attrs[sc.GEN_AI_REQUEST_MODEL] = model
        if route.kind == "llm":
            attrs[sc.GEN_AI_PROVIDER_NAME] = provider.NAME
            attrs[sc.GEN_AI_OPERATION_NAME] = route.operation
            if self.stream_requested:
                attrs[sc.GEN_AI_REQUEST_STREAM] = True
            if config.capture_content and isinstance(body, dict):
                messages = body.get("messages", body.get("input"))
                if messages is not None:
                    attrs[sc.GEN_AI_INPUT_MESSAGES] = json.dumps(messages, ensure_ascii=False)
        self._attrs = attrs
        name = f"{route.operation} {model}" if model else route.operation
        tracer = config.tracer
        self._start_keys: frozenset[str] | None = None
        """Attributes the span started with (`_finish` writes the rest); None: it started bare."""
        # The span starts at the time the call is priced at.
        if _start_attributes_read(tracer):
            self.span = tracer.start_span(
                name, parent, kind=SpanKind.CLIENT, attributes=attrs, start_time=self._start_ns
            )
            self._start_keys = frozenset(attrs)
        else:  # nothing reads them before the span ends: all are written once, at the end
            self.span = tracer.start_span(name, parent, kind=SpanKind.CLIENT, start_time=self._start_ns)
        priced.cover_current_span(parent)

    def response(self, status: int, headers: Any) -> BodyObserver | None:
        """Record the response head; returns the body observer when the body should be parsed."""
        attrs = self._attrs
        attrs[sc.HTTP_RESPONSE_STATUS_CODE] = status
        if status >= 400:
            attrs[sc.ERROR_TYPE] = str(status)
            self._units.clear()  # a refused call is not billed
            return None
        parse_headers = getattr(self._provider, "parse_headers", None)
        if parse_headers is not None:
            found = parse_headers(self._route, headers)
            if isinstance(found, Usage):  # tokens (and units) from headers
                self._head_usage, found = found, found.units
            self._units.update(found or {})
        content_type, encoding = header_values(headers, b"content-type", b"content-encoding")
        content_type = content_type.lower() if content_type else ""
        event_stream = content_type.startswith(_EVENT_STREAM)
        stream = event_stream or content_type.startswith("text/event-stream")
        if not stream and "json" not in content_type:
            # audio, images: usage comes from the request or headers, or not at all
            if not self._units and self._head_usage is None:
                attrs[sc.USAGE_STATUS] = f"content-type {content_type or 'missing'} not parsed"
            return None
        self._observer = BodyObserver(
            self._provider,
            self._route,
            stream=stream,
            encoding=encoding.lower() if encoding else None,
            limit=self._config.max_body_bytes,
            event_stream=event_stream,
        )
        return self._observer

    def finish(self, *, complete: bool, error: BaseException | None = None) -> None:
        """End the span with what is known; safe to call more than once (the first call wins)."""
        if self._done:  # the body's end, close() and __del__ all call this: the later ones stop here
            return
        with self._lock:
            if self._done:
                return
            self._done = True
        try:  # not the `internal_errors` context manager: this runs once per call, on the app's thread
            self._finish(complete, error)
        except Exception as exc:
            try:
                self._end_after(exc)
            except Exception:  # the first error, reported next, is the one to see
                pass
            report_internal_error("capture.finish", exc)

    def _end_after(self, exc: Exception) -> None:
        """End the span all the same, with what was gathered and the failure named, so the call is
        not lost from the telemetry (a span never ended is never exported)."""
        span = self.span
        if getattr(span, "end_time", None) is not None:
            return
        try:
            attrs = self._unwritten()
            attrs[sc.USAGE_STATUS] = f"capture error: {type(exc).__name__}"
            span.set_attributes(attrs)
        finally:
            span.end()

    def _unwritten(self) -> dict[str, Any]:
        """The attributes the span did not start with (all of them, not a copy, when it started bare)."""
        written = self._start_keys
        attrs = self._attrs
        return attrs if written is None else {k: v for k, v in attrs.items() if k not in written}

    def _finish(self, complete: bool, error: BaseException | None) -> None:
        attrs = self._attrs
        observer = self._observer
        usage: Usage | None = None
        if observer is not None:
            complete = complete or observer.terminal_seen
            usage = observer.result()
            if usage is None and observer.problem and self._head_usage is None:
                attrs[sc.USAGE_STATUS] = observer.problem
            if not complete:
                attrs[sc.USAGE_INCOMPLETE] = True
        if self._head_usage is not None:
            usage = _under(usage, self._head_usage)
        if self._units:
            usage = usage or Usage()
            usage.units = {**self._units, **usage.units}
        if usage is not None:
            _usage_attributes(usage, attrs)
        if error is not None:
            attrs[sc.ERROR_TYPE] = type(error).__qualname__
            self.span.record_exception(error)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        elif (status := attrs.get(sc.HTTP_RESPONSE_STATUS_CODE)) and status >= 400:
            self.span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
        source = self._config.price_source
        if source is not None:
            global _pricing
            if _pricing is None:  # at the first call: observe() stays light
                from llmobserve_otel import pricing as _pricing
            counts = _token_counts(usage) if usage is not None and not usage.units else None
            cost = None
            if counts is not None and (model := _pricing.priced_model(attrs)) is not None:
                operation = self._route.operation or None
                cost = _pricing.token_cost_usd(self._provider.NAME, operation, model, counts, self._start_ns)
            if cost is not None:
                attrs[sc.COST_USD] = cost
                attrs[sc.COST_SOURCE] = source
                attrs[sc.COST_STATUS] = sc.STATUS_PRICED
            else:
                attrs.update(_pricing.cost_attributes(attrs, source=source, timestamp_ns=self._start_ns))
        _set_attributes(self.span, self._unwritten())
        self.span.end()


_EVENT_STREAM = "application/vnd.amazon.eventstream"  # AWS binary frames (Bedrock streams)
_pricing: Any = None
"""`llmobserve_otel.pricing`, imported at the first priced call."""


def _token_counts(usage: Usage) -> dict[str, int] | None:
    """The usage's token counts in genai-prices' keys, as the pricing core reads them from the
    span; None when it has neither input nor output tokens or a count is not a non-negative int."""
    counts: dict[str, int] = {}
    for key in PRICED_TOKEN_FIELDS:
        value = getattr(usage, key)
        if value is not None:
            if type(value) is not int or value < 0:
                return None
            counts[key] = value
    return counts if "input_tokens" in counts or "output_tokens" in counts else None


def header_values(headers: Any, *names: bytes) -> list[str | None]:
    """Each named header's value (repeats joined with ", "), None when absent; `names` lower-case.

    httpx's `Headers.get` lower-cases, encodes and compares every header on each call: for its
    headers, one pass over the (raw key, lower-case key, value) list reads them all. Other header
    types: their `get`.
    """
    items = getattr(headers, "_list", None) if type(headers).__module__.startswith("httpx") else None
    if type(items) is not list:
        return [headers.get(name.decode()) for name in names]
    found: dict[bytes, list[bytes]] = {}
    for _, key, value in items:
        if key in names:
            found.setdefault(key, []).append(value)
    return [b", ".join(found[name]).decode("latin-1") if name in found else None for name in names]


# Samplers that decide without looking at the attributes, and span processors that do not read
# them as a span starts (ours, and the SDK's export processors).
_BLIND_SAMPLERS = (sampling.StaticSampler, sampling.TraceIdRatioBased)
_PARENT_BASED = (sampling.ParentBased, sampling.ParentBasedTraceIdRatio)
_BLIND_PROCESSORS = (AttributionSpanProcessor, CostSpanProcessor, BatchSpanProcessor, SimpleSpanProcessor)
_MULTI_PROCESSORS = (SynchronousMultiSpanProcessor, ConcurrentMultiSpanProcessor)
_last_tracer: tuple[Any, Any, bool] = (None, None, True)
"""(tracer, its span processors, `_start_attributes_read`) from the last call."""


def _blind(sampler: Any) -> bool:
    if type(sampler) in _BLIND_SAMPLERS:
        return True
    if type(sampler) in _PARENT_BASED:
        return all(_blind(delegate) for delegate in vars(sampler).values())
    return False


def _start_attributes_read(tracer: Any) -> bool:
    """Whether the tracer's sampler or one of its span processors may read the attributes a span
    starts with; False only for the SDK's own samplers and for our and the SDK's export processors.

    When none does, a span can start bare and get all its attributes once, as it ends, without the
    SDK cleaning each value (half the cost of starting it). The answer is kept while the tracer and its
    processors stay the same (adding a processor replaces the SDK's tuple of them).
    """
    global _last_tracer
    multi = getattr(tracer, "span_processor", None)
    processors = getattr(multi, "_span_processors", None)
    last_tracer, last_processors, answer = _last_tracer
    if last_tracer is tracer and last_processors is processors:
        return answer
    answer = not (
        type(multi) in _MULTI_PROCESSORS
        and type(processors) is tuple
        and all(type(processor) in _BLIND_PROCESSORS for processor in processors)
        and _blind(getattr(tracer, "sampler", None))
    )
    _last_tracer = (tracer, processors, answer)
    return answer


def _under(body: Usage | None, head: Usage) -> Usage:
    """`body` with the fields it lacks taken from the header usage `head`."""
    if body is None:
        return head
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "model"):
        if getattr(body, name) is None:
            setattr(body, name, getattr(head, name))
    body.units = {**head.units, **body.units}
    return body


def _port(request: RequestView) -> str:
    default = 443 if request.scheme == "https" else 80
    return "" if request.port in (None, default) else f":{request.port}"


def _usage_attributes(usage: Usage, attrs: dict[str, Any]) -> None:
    for key, value in (
        (sc.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens),
        (sc.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
        (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_tokens),
        (sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_write_tokens),
        (sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_tokens),
        # Audio tokens only when there are some: most calls have none, and zeros are noise downstream.
        (sc.USAGE_INPUT_AUDIO_TOKENS, usage.input_audio_tokens or None),
        (sc.USAGE_OUTPUT_AUDIO_TOKENS, usage.output_audio_tokens or None),
        (sc.GEN_AI_RESPONSE_MODEL, usage.model),
        (sc.GEN_AI_RESPONSE_ID, usage.response_id),
    ):
        if value is not None:
            attrs[key] = value
    if usage.finish_reasons:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(usage.finish_reasons)  # as the SDK keeps a list
    for unit, amount in usage.units.items():
        attrs[f"{sc.USAGE_PREFIX}{unit}"] = amount
    if usage.input_tokens is None and usage.output_tokens is None and not usage.units:
        attrs[sc.USAGE_STATUS] = "no usage in response"
