"""`llmobserve-otel report` against a store with known contents: every --by, every format, the tree.

The store (written once per module, then closed so each CLI run opens it itself):

| # | trace | customer | service | provider  | model                  | section                               | cost    | in   | out | cache r/w |
|---|-------|----------|---------|-----------|------------------------|---------------------------------------|---------|------|-----|-----------|
| 1 | T1    | acme     | agent   | openai    | gpt-4o                 | agent:research/step:plan              | 0.01    | 1000 | 100 |           |
| 2 | T1    | acme     | agent   | openai    | gpt-4o                 | agent:research/step:plan/tool:search  | 0.02    | 2000 | 200 |           |
| 3 | T1    | acme     | agent   | anthropic | claude-sonnet-4-5      | agent:research/step:write             | 0.05    | 3000 | 300 | 1000/500  |
| 4 | T2    | globex   | indexer | openai    | text-embedding-3-small | agent:index                           | 0.001   | 500  | 0   |           |
| 5 | T2    | globex   | indexer | pinecone  |                        | agent:index/tool:lookup               | 0.0004  |      |     | 5 read units |
| 6 | T3    |          | agent   | openai    | gpt-4o-mini            |                                       | (none: unknown_model) | 100 | 10 | |

plus a section span and an HTTP span, which are not calls.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from llmobserve_otel import semconv as sc
from llmobserve_otel.cli import main
from llmobserve_otel.store import insert_spans, open_store
from llmobserve_otel.store._rows import span_row, string_map

MIN = 60 * 1_000_000_000
H0 = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z
T1, T2, T3 = (f"{n:032x}" for n in (0x71, 0x72, 0x73))


def row(n: int, minute: int, trace: str, service: str, attributes: dict[str, Any]) -> list[Any]:
    span = Span(
        trace_id=bytes.fromhex(trace),
        span_id=n.to_bytes(8, "big"),
        name=f"span {n}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=H0 + minute * MIN,
        end_time_unix_nano=H0 + minute * MIN + 1000,
    )
    return span_row(
        span,
        service_name=service,
        resource_attributes={"service.name": service},
        scope_name="tests",
        scope_version="1",
        span_attributes=string_map(attributes),
    )


def llm(
    provider: str, model: str, customer: str, section: str, cost: float | None, tokens: tuple[int, int]
) -> dict:
    attributes = {
        sc.PROVIDER: provider,
        sc.GEN_AI_REQUEST_MODEL: model,
        sc.GEN_AI_USAGE_INPUT_TOKENS: tokens[0],
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: tokens[1],
    }
    if customer:
        attributes[sc.CUSTOMER_ID] = customer
    if section:
        attributes[sc.SECTION_PATH] = section
    if cost is None:
        attributes[sc.COST_STATUS] = sc.STATUS_UNKNOWN_MODEL
    else:
        attributes.update({sc.COST_USD: cost, sc.COST_SOURCE: "sdk", sc.COST_STATUS: sc.STATUS_PRICED})
    return attributes


ROWS = [
    row(1, 10, T1, "agent", llm("openai", "gpt-4o", "acme", "agent:research/step:plan", 0.01, (1000, 100))),
    row(
        2,
        20,
        T1,
        "agent",
        llm("openai", "gpt-4o", "acme", "agent:research/step:plan/tool:search", 0.02, (2000, 200)),
    ),
    row(
        3,
        70,
        T1,
        "agent",
        {
            **llm("anthropic", "claude-sonnet-4-5", "acme", "agent:research/step:write", 0.05, (3000, 300)),
            sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 1000,
            sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: 500,
        },
    ),
    row(
        4,
        130,
        T2,
        "indexer",
        llm("openai", "text-embedding-3-small", "globex", "agent:index", 0.001, (500, 0)),
    ),
    row(
        5,
        135,
        T2,
        "indexer",
        {
            sc.PROVIDER: "pinecone",
            sc.OPERATION: "query",
            sc.CUSTOMER_ID: "globex",
            sc.SECTION_PATH: "agent:index/tool:lookup",
            sc.USAGE_PREFIX + "read_units": 5,
            sc.COST_USD: 0.0004,
        },
    ),
    row(6, 140, T3, "agent", llm("openai", "gpt-4o-mini", "", "", None, (100, 10))),
    row(
        7,
        5,
        T1,
        "agent",
        {sc.SECTION_PATH: "agent:research", sc.SECTION_KIND: "agent", sc.CUSTOMER_ID: "acme"},
    ),
    row(8, 6, T1, "agent", {"http.request.method": "POST", sc.CUSTOMER_ID: "acme"}),
]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = "chdb://" + str(tmp_path_factory.mktemp("report") / "store")
    client = open_store(url)
    insert_spans(client, ROWS)
    client.close()
    return url


def totals(key: str, cost: float, calls: int, tokens_in: int, tokens_out: int, **more: Any) -> dict[str, Any]:
    out = {
        "key": key,
        "cost_usd": cost,
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 0,
        "unpriced_calls": 0,
        "units": {},
    }
    out.update(more)
    return out


EXPECTED = {
    "customer": [
        totals("acme", 0.08, 3, 6000, 600, cache_read_tokens=1000, cache_creation_tokens=500),
        totals("globex", 0.0014, 2, 500, 0, units={"read_units": 5.0}),
        totals("", 0.0, 1, 100, 10, unpriced_calls=1),
    ],
    "provider": [
        totals("anthropic", 0.05, 1, 3000, 300, cache_read_tokens=1000, cache_creation_tokens=500),
        totals("openai", 0.031, 4, 3600, 310, unpriced_calls=1),
        totals("pinecone", 0.0004, 1, 0, 0, units={"read_units": 5.0}),
    ],
    "model": [
        {
            **totals(
                "claude-sonnet-4-5", 0.05, 1, 3000, 300, cache_read_tokens=1000, cache_creation_tokens=500
            ),
            "provider": "anthropic",
        },
        {**totals("gpt-4o", 0.03, 2, 3000, 300), "provider": "openai"},
        {**totals("text-embedding-3-small", 0.001, 1, 500, 0), "provider": "openai"},
        {**totals("", 0.0004, 1, 0, 0, units={"read_units": 5.0}), "provider": "pinecone"},
        {**totals("gpt-4o-mini", 0.0, 1, 100, 10, unpriced_calls=1), "provider": "openai"},
    ],
    "section": [
        totals(
            "agent:research/step:write", 0.05, 1, 3000, 300, cache_read_tokens=1000, cache_creation_tokens=500
        ),
        totals("agent:research/step:plan/tool:search", 0.02, 1, 2000, 200),
        totals("agent:research/step:plan", 0.01, 1, 1000, 100),
        totals("agent:index", 0.001, 1, 500, 0),
        totals("agent:index/tool:lookup", 0.0004, 1, 0, 0, units={"read_units": 5.0}),
        totals("", 0.0, 1, 100, 10, unpriced_calls=1),
    ],
    "service": [
        totals(
            "agent", 0.08, 4, 6100, 610, cache_read_tokens=1000, cache_creation_tokens=500, unpriced_calls=1
        ),
        totals("indexer", 0.0014, 2, 500, 0, units={"read_units": 5.0}),
    ],
    "trace": [
        totals(T1, 0.08, 3, 6000, 600, cache_read_tokens=1000, cache_creation_tokens=500),
        totals(T2, 0.0014, 2, 500, 0, units={"read_units": 5.0}),
        totals(T3, 0.0, 1, 100, 10, unpriced_calls=1),
    ],
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["report", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("by", list(EXPECTED))
def test_json_for_every_grouping(by: str, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--by", by, "--format", "json", "--clickhouse-url", store_url)
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert rows == EXPECTED[by]
    assert [r["cost_usd"] for r in rows] == sorted((r["cost_usd"] for r in rows), reverse=True)
    assert all(
        list(r)[:5] == ["key", "cost_usd", "calls", "input_tokens", "output_tokens"]
        for r in rows
        if by != "model"
    )


@pytest.mark.parametrize("by", list(EXPECTED))
def test_csv_for_every_grouping(by: str, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--by", by, "--format", "csv", "--clickhouse-url", store_url)
    assert code == 0
    records = list(csv.DictReader(io.StringIO(out)))
    expected = EXPECTED[by]
    assert [r["key"] for r in records] == [e["key"] for e in expected]
    assert [float(r["cost_usd"]) for r in records] == [e["cost_usd"] for e in expected]
    assert [int(r["calls"]) for r in records] == [e["calls"] for e in expected]
    assert [r["units"] for r in records] == ["read_units=5" if e["units"] else "" for e in expected]
    header = out.splitlines()[0]
    assert header.startswith(
        "key,provider,cost_usd," if by == "model" else "key,cost_usd,calls,input_tokens,output_tokens"
    )


@pytest.mark.parametrize("by", list(EXPECTED))
def test_table_for_every_grouping(by: str, store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--by", by, "--format", "table", "--clickhouse-url", store_url)
    assert code == 0
    assert f"Cost by {by}: $0.081400 over 6 calls" in out
    first = EXPECTED[by][0]
    assert first["key"] in out
    assert f"${first['cost_usd']:.6f}" in out


def test_plain_table_without_rich(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    monkeypatch.setitem(sys.modules, "rich.table", None)
    code, out, _ = run(capsys, "--by", "customer", "--clickhouse-url", store_url)
    assert code == 0
    assert out.splitlines() == [
        "Cost by customer: $0.081400 over 6 calls",
        "customer            cost  calls  input tok  output tok  unpriced  units",
        "-------------  ---------  -----  ---------  ----------  --------  ------------",
        "acme           $0.080000      3      6,000         600         0",
        "globex         $0.001400      2        500           0         0  read_units=5",
        "(no customer)         $0      1        100          10         1",
    ]


def test_filters_and_time_window(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "--by",
        "model",
        "--format",
        "json",
        "--customer",
        "acme",
        "--since",
        "2025-01-01T10:15:00Z",
        "--until",
        "2025-01-01T11:30",
        "--clickhouse-url",
        store_url,
    )
    assert code == 0
    assert [(r["key"], r["cost_usd"], r["calls"]) for r in json.loads(out)] == [
        ("claude-sonnet-4-5", 0.05, 1),
        ("gpt-4o", 0.02, 1),
    ]
    code, out, _ = run(
        capsys, "--by", "trace", "--format", "json", "--limit", "1", "--clickhouse-url", store_url
    )
    assert [r["key"] for r in json.loads(out)] == [T1]


def test_section_tree_aggregate(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--tree", "--format", "json", "--clickhouse-url", store_url)
    assert code == 0

    def shape(nodes: list[dict]) -> list:
        return [
            (n["name"], n["cost_usd"], n["self_cost_usd"], n["calls"], shape(n["children"])) for n in nodes
        ]

    assert shape(json.loads(out)) == [
        (
            "agent:research",
            0.08,
            0.0,
            3,
            [
                ("step:write", 0.05, 0.05, 1, []),
                ("step:plan", 0.03, 0.01, 2, [("tool:search", 0.02, 0.02, 1, [])]),
            ],
        ),
        ("agent:index", 0.0014, 0.001, 2, [("tool:lookup", 0.0004, 0.0004, 1, [])]),
        ("(no section)", 0.0, 0.0, 1, []),
    ]


def test_section_tree_of_one_trace(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "--tree", "--trace", T2.upper(), "--format", "csv", "--clickhouse-url", store_url
    )
    assert code == 0
    assert out.splitlines() == [
        "path,name,kind,depth,cost_usd,self_cost_usd,calls,input_tokens,output_tokens",
        "agent:index,agent:index,agent,0,0.0014,0.001,2,500,0",
        "agent:index/tool:lookup,tool:lookup,tool,1,0.0004,0.0004,1,0,0",
    ]
    code, out, _ = run(capsys, "--tree", "--trace", T1, "--clickhouse-url", store_url)
    assert code == 0
    lines = out.splitlines()
    assert "Cost by section: $0.080000" in lines[0]
    assert any("    tool:search" in line and "$0.020000" in line for line in lines)


def test_missing_store_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--clickhouse-url", f"chdb://{tmp_path}/none")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(
        f"llmobserve-otel report: no store at {tmp_path}/none: start `llmobserve-otel collector` first"
    )


def test_locked_store_without_a_collector_is_one_clear_line(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store_held_open
) -> None:
    monkeypatch.setenv("LLMOBSERVE_CLICKHOUSE_URL", store_url)
    with store_held_open(store_url, create=False):
        code, out, err = run(capsys, "--collector-url", "http://127.0.0.1:9")
    assert (code, out, err.count("\n")) == (1, "", 1)
    assert "is in use by another process" in err and "no collector answered at http://127.0.0.1:9" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "cannot read the time 'yesterday'"),
        (["--since", "2025-01-02", "--until", "2025-01-01"], "--until must be later than --since"),
        (["--trace", "abc"], "--trace needs --tree"),
    ],
)
def test_bad_arguments(
    args: list[str], message: str, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *args, "--clickhouse-url", store_url)
    assert code == 1 and message in err


def test_something_else_on_the_collector_port_falls_back_to_the_store(
    store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import threading

    class NotOurs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # an otelcol-contrib answers 404 here
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"404 page not found")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotOurs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("LLMOBSERVE_CLICKHOUSE_URL", store_url)
    try:
        code, out, _ = run(
            capsys,
            "--by",
            "service",
            "--format",
            "json",
            "--collector-url",
            f"http://127.0.0.1:{server.server_port}",
        )
    finally:
        server.shutdown()
    assert code == 0
    assert [r["key"] for r in json.loads(out)] == ["agent", "indexer"]
