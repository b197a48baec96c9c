"""The collector's fast path for protobuf requests (`request_span_rows` + `insert_span_rows`).

What the receiver decides from the bytes (fast path or exact path, duplicates, pricing), that
`surely_valid` never lets an invalid pinned attribute through, and that a real collector stores
through the fast path, falls back exactly, and spools SpanRows as rows.

Prices from the genai-prices data installed in .venv (genai_prices/data.py, provider 'openai',
ModelInfo id='gpt-4o': input_mtok=Decimal('2.5'), cache_read_mtok=Decimal('1.25'),
output_mtok=Decimal('10')), the same as https://openai.com/api/pricing.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource as SdkResource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from span_factory import (
    GPT_4O_COST,
    SDK_CALL,
    STORED_COLUMNS,
    T0,
    UNPRICED_CALL,
    M,
    any_value,
    kvs,
    make_request,
    make_span,
)
from starlette.testclient import TestClient

import llmobserve_otel as lo
from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.protobuf import field
from llmobserve_otel.cli import main
from llmobserve_otel.collector import Collector, CollectorConfig, ServerThread
from llmobserve_otel.collector._app import collector_pricer
from llmobserve_otel.collector._pipeline import request_rows
from llmobserve_otel.collector._span_rows import SpanRows, _fields, request_span_rows
from llmobserve_otel.collector._validate import (
    _COUNTS,
    _STRINGS,
    InvalidAttributeError,
    check_attributes,
    surely_valid,
)
from llmobserve_otel.collector._writer import Writer
from llmobserve_otel.store._rows import attributes_dict


class CountingPricer:
    """The collector's pricer, counting its calls."""

    def __init__(self) -> None:
        pricer = collector_pricer()
        assert pricer is not None
        self._pricer = pricer
        self.calls = 0

    def __call__(self, attributes: Mapping[str, Any], timestamp_ns: int) -> Mapping[str, Any]:
        self.calls += 1
        return self._pricer(attributes, timestamp_ns)


def stored_spans(rows: SpanRows) -> list[Span]:
    """The span (SpanRow field 4) of every row of a SpanRows chunk, decoded."""
    out = []
    for piece in rows.data:
        for _, start, end in _fields(piece, 0, len(piece), delimited=True):
            row = piece[start:end]
            [(s, e)] = [(s, e) for number, s, e in _fields(row, 0, len(row)) if number == 4]
            out.append(Span.FromString(row[s:e]))
    return out


def by_key(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=lambda r: (r[1], r[2]))


# --- 3. receiver decisions ---------------------------------------------------------------------------


def test_a_valid_sdk_span_takes_the_fast_path() -> None:
    request = make_request(make_span(1, SDK_CALL, trace=0xFA57))
    pricer = CountingPricer()
    fast = request_span_rows(request.SerializeToString(), pricer=pricer)
    assert fast is not None
    assert (len(fast), fast.duplicates, fast.keys) == (
        1,
        0,
        [(0xFA57).to_bytes(16, "big") + (1).to_bytes(8, "big")],
    )
    assert pricer.calls == 0  # cost and source present: not priced again
    assert fast.rows() == request_rows(request, pricer=pricer).rows
    assert fast.rows()[0][11][sc.GEN_AI_RESPONSE_FINISH_REASONS] == '["stop"]'


NOT_SURE = {
    "cost as a string": ({sc.COST_USD: "0.1"}, "must be a non-negative number, got str '0.1'"),
    "negative token count": (
        {sc.GEN_AI_USAGE_INPUT_TOKENS: -5},
        "must be a non-negative integer, got int -5",
    ),
    "bool token count": (
        {sc.GEN_AI_USAGE_OUTPUT_TOKENS: True},
        "must be a non-negative integer, got bool True",
    ),
    "NaN cost": ({sc.COST_USD: math.nan}, "must be a finite non-negative number, got float nan"),
    "model as an int": ({sc.GEN_AI_RESPONSE_MODEL: 4}, "must be a string, got int 4"),
    # Valid for the exact path, which the bytes alone cannot tell:
    "tokens as the double 12.0": ({sc.GEN_AI_USAGE_INPUT_TOKENS: 12.0}, None),
    "cost -0.0": ({sc.COST_USD: -0.0}, None),
    "a usage unit": ({sc.USAGE_PREFIX + "characters": 120}, None),
}


@pytest.mark.parametrize("case", list(NOT_SURE))
def test_what_the_bytes_cannot_settle_takes_the_exact_path(case: str) -> None:
    attributes, error = NOT_SURE[case]
    request = make_request(make_span(1, {sc.CUSTOMER_ID: "c"}), make_span(2, attributes))
    assert request_span_rows(request.SerializeToString(), pricer=CountingPricer()) is None
    if error is None:  # the exact path stores it
        [_, row] = request_rows(request).rows
        key, value = next(iter(attributes.items()))
        assert row[11][key] == {12.0: "12", -0.0: "-0", 120: "120"}[value]
    else:
        with pytest.raises(
            InvalidAttributeError, match=f"span 1 \\('call'\\): attribute '{key_of(attributes)}' {error}"
        ):
            request_rows(request)


def key_of(attributes: dict[str, Any]) -> str:
    return next(iter(attributes)).replace(".", "\\.")


def test_a_span_with_its_ids_out_of_canonical_order_takes_the_exact_path() -> None:
    trace_id, span_id = bytes.fromhex("0af7651916cd43dd8448eb211c80319c"), bytes.fromhex("b7ad6b7169203331")
    # Span fields by hand: span_id (2) before trace_id (1), then name (5), start (7) and end (8).
    span = (
        field(b"\x12", span_id)
        + field(b"\x0a", trace_id)
        + field(b"\x2a", b"reordered")
        + b"\x39"
        + T0.to_bytes(8, "little")
        + b"\x41"
        + (T0 + 5).to_bytes(8, "little")
    )
    resource = Resource(attributes=kvs({"service.name": "svc"})).SerializeToString()
    body = field(b"\x0a", field(b"\x0a", resource) + field(b"\x12", field(b"\x12", span)))
    assert request_span_rows(body) is None
    # Any protobuf reader accepts it: the exact path stores it.
    [row] = request_rows(ExportTraceServiceRequest.FromString(body)).rows
    assert row[1:3] == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    assert (row[5], row[7], row[12]) == ("reordered", "svc", 5)


@pytest.mark.parametrize("twice", ["resource", "scope"])
def test_a_resource_or_scope_given_twice_takes_the_exact_path_which_merges_them(twice: str) -> None:
    span = make_span(1, {"k": "v"}).SerializeToString()
    resources = [
        Resource(attributes=kvs({"service.name": "one", "a": 1})),
        Resource(attributes=kvs({"b": 2})),
    ]
    scopes = [InstrumentationScope(name="s1"), InstrumentationScope(version="v2")]
    resource = b"".join(
        field(b"\x0a", r.SerializeToString()) for r in resources[: 2 if twice == "resource" else 1]
    )
    scope = b"".join(field(b"\x0a", s.SerializeToString()) for s in scopes[: 2 if twice == "scope" else 1])
    body = field(b"\x0a", resource + field(b"\x12", scope + field(b"\x12", span)))
    assert request_span_rows(body) is None
    [row] = request_rows(ExportTraceServiceRequest.FromString(body)).rows
    if twice == "resource":
        assert row[7:11] == ("one", {"service.name": "one", "a": "1", "b": "2"}, "s1", "")
    else:
        assert row[7:11] == ("one", {"service.name": "one", "a": "1"}, "s1", "v2")


def test_a_zero_trace_id_takes_the_exact_path_which_rejects_it() -> None:
    bad = make_span(2, {"k": "v"})
    bad.trace_id = bytes(16)
    request = make_request(make_span(1, {"k": "v"}), bad)
    assert request_span_rows(request.SerializeToString()) is None
    batch = request_rows(request)
    assert (len(batch.rows), batch.rejected) == (1, 1)
    assert batch.error_message == "span 1 ('call'): invalid trace id '00000000000000000000000000000000'"


def test_duplicates_in_the_request_and_the_window_are_dropped_and_counted() -> None:
    spans = [make_span(n, {"n": n}, trace=0xD0D0) for n in (1, 2, 1, 3, 2)]
    request = make_request(*spans)
    key = lambda n: (0xD0D0).to_bytes(16, "big") + n.to_bytes(8, "big")  # noqa: E731
    fast = request_span_rows(request.SerializeToString(), seen={key(3)})
    assert fast is not None
    assert (fast.keys, fast.duplicates) == ([key(1), key(2)], 3)
    exact = request_rows(request, seen={key(3)})
    assert (exact.keys, exact.duplicates) == (fast.keys, fast.duplicates)
    assert fast.rows() == exact.rows
    assert [r[11]["n"] for r in fast.rows()] == ["1", "2"]


def test_an_unpriced_call_is_priced_and_its_old_status_replaced() -> None:
    attributes = {**UNPRICED_CALL, sc.COST_STATUS: "unknown_model", sc.CUSTOMER_ID: "acme"}
    request = make_request(make_span(1, attributes, trace=0xC057))
    pricer = CountingPricer()
    fast = request_span_rows(request.SerializeToString(), pricer=pricer)
    assert fast is not None and pricer.calls == 1
    [span] = stored_spans(fast)
    keys = [kv.key for kv in span.attributes]
    assert sorted(keys) == sorted({*attributes, sc.COST_USD, sc.COST_SOURCE})  # each key once
    priced = attributes_dict(span.attributes)
    assert priced[sc.COST_USD] == GPT_4O_COST == 0.0075
    assert (priced[sc.COST_SOURCE], priced[sc.COST_STATUS]) == ("collector", "priced")
    assert fast.rows() == request_rows(request, pricer=pricer).rows
    assert fast.rows()[0][11][sc.COST_USD] == "0.0075"


def test_a_priced_span_is_not_priced_again_and_a_caller_cost_gets_its_source() -> None:
    priced = make_span(1, {**UNPRICED_CALL, sc.COST_USD: 0.5, sc.COST_SOURCE: "sdk"})
    caller = make_span(2, {**UNPRICED_CALL, sc.COST_USD: 0.25})  # a cost without a source
    plain = make_span(3, {"http.method": "GET"})  # nothing a pricer reads
    request = make_request(priced, caller, plain)
    pricer = CountingPricer()
    fast = request_span_rows(request.SerializeToString(), pricer=pricer)
    assert fast is not None and pricer.calls == 1  # the caller's span only
    assert [(r[11].get(sc.COST_USD), r[11].get(sc.COST_SOURCE)) for r in fast.rows()] == [
        ("0.5", "sdk"),
        ("0.25", "caller"),
        (None, None),
    ]
    assert fast.rows() == request_rows(request, pricer=CountingPricer()).rows


def test_a_cost_in_an_event_does_not_stop_the_span_being_priced() -> None:
    span = make_span(1, UNPRICED_CALL)
    span.events.append(Span.Event(name="quote", attributes=kvs({sc.COST_USD: 0.1, sc.COST_SOURCE: "x"})))
    listed = make_span(2, {**UNPRICED_CALL, "meta": "m"})
    listed.attributes[-1].value.CopyFrom(
        AnyValue(kvlist_value=KeyValueList(values=kvs({sc.COST_USD: 0.1, sc.COST_SOURCE: "x"})))
    )
    request = make_request(span, listed)
    fast = request_span_rows(request.SerializeToString(), pricer=CountingPricer())
    assert fast is not None
    assert [r[11].get(sc.COST_USD) for r in fast.rows()] == ["0.0075", "0.0075"]
    assert fast.rows() == request_rows(request, pricer=CountingPricer()).rows


def test_pricing_decisions_match_the_exact_path() -> None:
    """The fast path offers a span to the pricer when 'gen_ai.'/'llmobserve.' is anywhere in its
    bytes, the exact path when a key starts so; where they differ, or the pricer only adds a
    status, the rows are the same."""
    in_value = make_span(1, {"note": "gen_ai.request.model=gpt-4o", "http.url": "x"})
    in_event = make_span(2, {"k": 1})
    in_event.events.add(name="gen_ai.content.prompt", attributes=kvs({sc.GEN_AI_USAGE_INPUT_TOKENS: 5}))
    no_usage = make_span(3, {sc.PROVIDER: "openai"})
    unknown = make_span(
        4, {sc.PROVIDER: "openai", sc.GEN_AI_RESPONSE_MODEL: "no-such-model", sc.GEN_AI_USAGE_INPUT_TOKENS: 5}
    )
    request = make_request(in_value, in_event, no_usage, unknown)
    fast = request_span_rows(request.SerializeToString(), pricer=CountingPricer())
    assert fast is not None
    assert fast.rows() == request_rows(request, pricer=CountingPricer()).rows
    assert [r[11].get(sc.COST_STATUS) for r in fast.rows()] == [None, None, "no_usage", "unknown_model"]


# --- 4. surely_valid never lies ----------------------------------------------------------------------

_PINNED = [*_STRINGS, *_COUNTS, sc.COST_USD]
_OTHER_KEYS = ["http.method", "gen_ai.request.temperature", "llmobserve.capture", "k", "", "gen_ai.usage"]
_ABSENT = object()  # a KeyValue without its value field


def _good(key: str, rng: random.Random) -> Any:
    if key in _STRINGS:
        return rng.choice(["", "openai", "gpt-4o", "x" * rng.randint(1, 300), "é" * rng.randint(1, 80)])
    if key in _COUNTS:
        return rng.choice([0, 1, 1000, 2**31, 2**62, rng.randint(0, 2**63 - 1)])
    return rng.choice(
        [0.0, 0.0075, 1e-9, 123.5, 1e300, 5e-324, 0, 7, rng.random() * 10 ** rng.randint(-9, 9)]
    )


def _any(rng: random.Random) -> Any:
    return rng.choice(
        [
            "",
            "s",
            "0.1",
            "x" * 200,
            -1,
            -(2**63),
            0,
            2**63 - 1,
            12.0,
            -0.0,
            0.5,
            -0.5,
            math.nan,
            math.inf,
            -math.inf,
            True,
            False,
            b"",
            b"\x01\x02",
            None,
            _ABSENT,
            ["a", 1],
            {"a": 1},
            [],
            {},
        ]
    )


def _pair(key: str, value: Any) -> KeyValue:
    return KeyValue(key=key) if value is _ABSENT else KeyValue(key=key, value=any_value(value))


def random_request(rng: random.Random, *, bad_rate: float) -> ExportTraceServiceRequest:
    """Spans with pinned and other keys; a pinned key gets an arbitrary value with `bad_rate`."""
    request = ExportTraceServiceRequest()
    n = 0
    for _ in range(rng.randint(1, 2)):
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(kvs({"service.name": "svc"}))
        for _ in range(rng.randint(1, 3)):
            ss = rs.scope_spans.add()
            if rng.random() < 0.7:
                ss.scope.name = "scope" * rng.randint(0, 30)
            for _ in range(rng.randint(1, 3)):
                n += 1
                span = ss.spans.add(
                    trace_id=(0xABC).to_bytes(16, "big"),
                    span_id=n.to_bytes(8, "big"),
                    name="s",
                    start_time_unix_nano=T0,
                    end_time_unix_nano=T0 + 1,
                )
                for _ in range(rng.randint(0, 10)):
                    key = rng.choice(_PINNED) if rng.random() < 0.6 else rng.choice(_OTHER_KEYS)
                    pinned = key in _PINNED
                    value = _good(key, rng) if pinned and rng.random() >= bad_rate else _any(rng)
                    span.attributes.append(_pair(key, value))
                if rng.random() < 0.3:  # pinned keys where no rule applies: events, lists
                    key = rng.choice(_PINNED)
                    value = _good(key, rng) if rng.random() >= bad_rate else _any(rng)
                    span.events.add(name="e", attributes=[_pair(key, value)])
                    if rng.random() < 0.5:
                        span.attributes.append(_pair("meta", {key: value}))
                if rng.random() < 0.2:
                    span.status.code = rng.randint(0, 2)
                    span.status.message = rng.choice(["", "boom"])
    return request


def exact_error(request: ExportTraceServiceRequest) -> str | None:
    """check_attributes' complaint about a span (decoded by the real proto classes), else None."""
    decoded = ExportTraceServiceRequest.FromString(request.SerializeToString())
    try:
        for rs in decoded.resource_spans:
            for ss in rs.scope_spans:
                for i, span in enumerate(ss.spans):
                    check_attributes(attributes_dict(span.attributes), span.name, i)
    except InvalidAttributeError as exc:
        return str(exc)
    return None


def test_surely_valid_never_says_true_for_an_invalid_request() -> None:
    rng = random.Random(20261127)
    invalid = said_true = 0
    for _ in range(4000):
        request = random_request(rng, bad_rate=rng.choice([0.02, 0.1, 0.3, 1.0]))
        body = request.SerializeToString()
        error = exact_error(request)
        invalid += error is not None
        if surely_valid(body):
            said_true += 1
            assert error is None, (error, body)
    # The draw really exercised both sides.
    assert invalid > 1000 and said_true > 1000, (invalid, said_true)


def test_surely_valid_says_true_for_valid_sdk_like_requests() -> None:
    rng = random.Random(7)
    trials, said_true = 2000, 0
    for _ in range(trials):
        request = random_request(rng, bad_rate=0.0)
        assert exact_error(request) is None
        said_true += surely_valid(request.SerializeToString())
    assert said_true >= 0.95 * trials, said_true


# --- 2. and 6. a running collector --------------------------------------------------------------------


class Running:
    def __init__(self, collector: Collector, server: ServerThread) -> None:
        self.collector = collector
        self.server = server
        self.url = server.url

    def settle(self) -> None:
        deadline = time.monotonic() + 10
        while self.collector.writer is not None and self.collector.writer.pending:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def post(self, body: bytes) -> int:
        request = urllib.request.Request(
            self.url + "/v1/traces",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-protobuf"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def rows(self, where: str) -> list[tuple[Any, ...]]:
        query = f"SELECT {STORED_COLUMNS} FROM otel_traces WHERE {where} ORDER BY TraceId, SpanId"
        return [tuple(r) for r in self.collector.client.query(query).result_rows]


def as_stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """An exact-path row as ClickHouse reads it back (arrays as lists)."""
    return tuple(list(v) if isinstance(v, tuple) else v for v in row)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    store = tmp_path_factory.mktemp("fast") / "store"
    collector = Collector(CollectorConfig(clickhouse_url=f"chdb://{store}", flush_interval=0.02))
    collector.open()
    server = ServerThread(collector).start()
    yield Running(collector, server)
    server.stop()
    collector.close()


UNRENDERABLE = {
    "nested array": {"a": AnyValue(array_value=ArrayValue(values=[any_value([1, 2]), any_value(3)]))},
    "kvlist inside an array": {"a": AnyValue(array_value=ArrayValue(values=[any_value({"k": 1})]))},
    "array in an event attribute": None,
    "repeated span attribute key": [("k", "first"), ("k", "last")],
    "repeated kvlist key": {"m": AnyValue(kvlist_value=KeyValueList(values=[_pair("k", 1), _pair("k", 2)]))},
}


def unrenderable(case: str, trace: int) -> ExportTraceServiceRequest:
    good = make_span(1, {**SDK_CALL, sc.CUSTOMER_ID: f"fallback-{trace}"}, trace=trace)
    bad = make_span(2, {sc.CUSTOMER_ID: f"fallback-{trace}", **UNPRICED_CALL}, trace=trace, name=case)
    spec = UNRENDERABLE[case]
    if spec is None:
        bad.events.add(time_unix_nano=T0, name="e", attributes=[_pair("a", ["x", 1])])
    elif isinstance(spec, list):
        bad.attributes.extend(_pair(k, v) for k, v in spec)
    else:
        bad.attributes.extend(KeyValue(key=k, value=v) for k, v in spec.items())
    return make_request(good, bad, service="fallback")


@pytest.mark.parametrize("case", list(UNRENDERABLE))
def test_a_collector_stores_what_sql_cannot_render_the_python_way(running: Running, case: str) -> None:
    trace = 0xFA11 + list(UNRENDERABLE).index(case)
    request = unrenderable(case, trace)
    body = request.SerializeToString()
    assert request_span_rows(body, pricer=running.collector.pricer) is not None  # offered to SQL first
    assert running.post(body) == 200
    running.settle()
    assert running.collector._fallback_logged is True
    got = running.rows(f"TraceId = '{trace:032x}'")
    want = [as_stored(r) for r in by_key(request_rows(request, pricer=collector_pricer()).rows)]
    assert got == want
    [good, bad] = got
    assert (good[11][sc.COST_USD], good[11][sc.COST_SOURCE]) == ("0.0075", "sdk")
    assert (bad[11][sc.COST_USD], bad[11][sc.COST_SOURCE]) == ("0.0075", "collector")  # priced on the way
    rendered = {
        "nested array": ("a", "[[1,2],3]"),
        "kvlist inside an array": ("a", '[{"k":1}]'),
        "array in an event attribute": ("n/a", None),
        "repeated span attribute key": ("k", "last"),  # the last value, as a dict keeps it
        "repeated kvlist key": ("m", '{"k":2}'),
    }[case]
    if rendered[1] is None:
        assert bad[17] == [{"a": '["x",1]'}]
    else:
        assert bad[11][rendered[0]] == rendered[1]
    costs = running.collector.client.query(
        f"SELECT count(), sum(cost_usd) FROM llmobserve_costs FINAL WHERE customer = 'fallback-{trace}'"
    ).result_rows
    assert [(n, float(c)) for n, c in costs] == [(2, 0.015)]


class RecordingSession(requests.Session):
    """The exporter's own HTTP session, keeping the request bodies it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.bodies.append(kwargs["data"])
        return super().request(method, url, *args, **kwargs)


@pytest.mark.provider("openai")
def test_sdk_spans_go_through_the_fast_path_end_to_end(
    running: Running, sim: Any, spans: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    running.settle()
    assert running.collector._sql_decode is True  # protobuf into chDB: the fast path is on
    running.collector._fallback_logged = False
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test-secret", max_retries=0)
    with lo.customer("e2e-fast"), lo.section("agent:research"):
        for _ in range(2):
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Plan."}],
                extra_headers={
                    "x-sim-usage": json.dumps(
                        {"input_tokens": 1000, "output_tokens": 500, "cached_tokens": 200}
                    ),
                    "x-sim-response-model": "gpt-4o-2024-08-06",
                },
            )
    calls = spans.provider_calls()
    assert [c.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] for c in calls] == [("stop",), ("stop",)]
    # An instrumentation without pricing: the collector prices its span.
    provider = TracerProvider(resource=SdkResource.create({"service.name": "bare"}))
    session = RecordingSession()
    exporter = OTLPSpanExporter(endpoint=running.url + "/v1/traces", session=session)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("bare").start_as_current_span(
        "chat gpt-4o", attributes={**UNPRICED_CALL, sc.CUSTOMER_ID: "e2e-fast"}
    ):
        pass
    assert exporter.export(spans.all()).name == "SUCCESS"
    provider.shutdown()
    running.settle()
    assert len(session.bodies) == 2
    for body in session.bodies:  # the same bytes take the fast path
        assert request_span_rows(body, pricer=running.collector.pricer) is not None
    assert running.collector._fallback_logged is False

    capsys.readouterr()
    assert (
        main(
            [
                "report",
                "--format",
                "json",
                "--by",
                "provider",
                "--customer",
                "e2e-fast",
                "--collector-url",
                running.url,
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    # SDK calls: 800 uncached * $2.5 + 200 cached * $1.25 + 500 out * $10 per million = $0.00725 each;
    # the bare call: $0.0075 (GPT_4O_COST).
    sdk_cost = (800 * 2.5 + 200 * 1.25 + 500 * 10) / M
    assert rows == [
        {
            "key": "openai",
            "cost_usd": round(2 * sdk_cost + GPT_4O_COST, 9),
            "calls": 3,
            "input_tokens": 3000,
            "output_tokens": 1500,
            "cache_read_tokens": 400,
            "cache_creation_tokens": 0,
            "reasoning_tokens": 0,
            "unpriced_calls": 0,
            "units": {},
        }
    ]
    assert rows[0]["cost_usd"] == 0.022
    stored = running.collector.client.query(
        "SELECT SpanAttributes['llmobserve.cost.usd'], SpanAttributes['llmobserve.cost.source'], "
        "SpanAttributes['gen_ai.response.finish_reasons'], SpanAttributes['llmobserve.section.path'] "
        "FROM otel_traces WHERE SpanAttributes['llmobserve.customer.id'] = 'e2e-fast' "
        "AND SpanAttributes['llmobserve.provider'] = 'openai' ORDER BY ServiceName, Timestamp"
    ).result_rows
    assert stored == [
        ("0.0075", "collector", "", ""),
        ("0.00725", "sdk", '["stop"]', "agent:research"),
        ("0.00725", "sdk", '["stop"]', "agent:research"),
    ]


def test_a_gzip_export_goes_through_the_fast_path(running: Running) -> None:
    running.settle()
    running.collector._fallback_logged = False
    provider = TracerProvider(resource=SdkResource.create({"service.name": "gzip"}))
    session = RecordingSession()
    exporter = OTLPSpanExporter(
        endpoint=running.url + "/v1/traces", session=session, compression=Compression.Gzip
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("bare").start_as_current_span(
        "chat gpt-4o", attributes={**UNPRICED_CALL, sc.CUSTOMER_ID: "e2e-gzip"}
    ):
        pass
    provider.shutdown()
    running.settle()
    [body] = session.bodies
    assert body[:2] == b"\x1f\x8b"  # gzip on the wire
    assert request_span_rows(gzip.decompress(body), pricer=running.collector.pricer) is not None
    assert running.collector._fallback_logged is False
    stored = running.collector.client.query(
        "SELECT ServiceName, SpanAttributes['llmobserve.cost.usd'], SpanAttributes['llmobserve.cost.source'] "
        "FROM otel_traces WHERE SpanAttributes['llmobserve.customer.id'] = 'e2e-gzip'"
    ).result_rows
    assert stored == [("gzip", "0.0075", "collector")]  # GPT_4O_COST


# --- 5. spool ----------------------------------------------------------------------------------------


def test_span_rows_accepted_while_the_store_fails_at_shutdown_are_spooled_then_stored(
    running: Running,
) -> None:
    # One chDB store per process: the module's collector steps aside, its store is reused.
    running.server.stop()
    running.collector.close()
    config = running.collector.config
    spool = Path(config.spool_path())
    collector = Collector(config)
    collector.open()
    try:
        assert collector.writer is not None
        collector.writer.stop()
        chunks: list[Any] = []

        def down(batch: Any) -> None:
            chunks.append(batch)
            raise ConnectionError("store unreachable")

        collector.writer = Writer(
            down, batch_size=10, flush_interval=0.01, max_queue=100, retry_max_delay=0.02
        )
        collector.writer.start()
        request = make_request(
            make_span(1, {**UNPRICED_CALL, sc.CUSTOMER_ID: "spooled-fast"}, trace=0x5B0F),
            make_span(2, {**UNPRICED_CALL, sc.CUSTOMER_ID: "spooled-fast"}, trace=0x5B0F),
            make_span(
                3, {sc.CUSTOMER_ID: "spooled-fast", sc.PROVIDER: "pinecone", sc.COST_USD: 0.25}, trace=0x5B0F
            ),
        )
        response = TestClient(collector.app).post(
            "/v1/traces",
            content=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert response.status_code == 200
        assert collector.close() is True  # not lost: spooled
        assert chunks and all(isinstance(c, SpanRows) for c in chunks)  # the fast path's chunk
        spooled = list(spool.glob("*.jsonl"))
        assert len(spooled) == 1 and len(spooled[0].read_text().splitlines()) == 3

        again = Collector(config)
        again.open()
        try:
            assert not list(spool.glob("*.jsonl"))
            rows = again.client.query(
                "SELECT span_id, cost_usd, cost_source FROM llmobserve_costs FINAL "
                "WHERE customer = 'spooled-fast' ORDER BY span_id"
            ).result_rows
            assert [(s, float(c), src) for s, c, src in rows] == [
                ("0000000000000001", GPT_4O_COST, "collector"),
                ("0000000000000002", GPT_4O_COST, "collector"),
                ("0000000000000003", 0.25, "caller"),
            ]
            got = again.client.query(
                f"SELECT count() FROM otel_traces WHERE TraceId = '{0x5B0F:032x}'"
            ).result_rows
            assert got == [(3,)]
        finally:
            again.close()
    finally:
        collector.close()
        running.collector.open()  # leave the module a running collector again
        running.server = ServerThread(running.collector).start()
        running.url = running.server.url
