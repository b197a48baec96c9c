"""Every panel's SQL, expanded as Grafana and the ClickHouse plugin expand it, run on chDB.

The store holds `seed.py`'s calls; each expected figure is written out as the sum of the seeded
costs it covers (c1 ... c9 below), so a panel that errors, double counts or loses a filter fails.
"""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal
from typing import Any

import pytest
from seed import FROM_MS, H0, MIN, TO_MS, Call, call_row, trace_id

from llmobserve_otel.dashboards import DASHBOARDS, QueryContext, dashboard, panel_rows
from llmobserve_otel.store import insert_spans, refresh_views

D = Decimal
# The seeded costs, by call (see seed.py for the token x price arithmetic of each).
c1, c2, c3 = D("0.0045"), D("0.0004"), D("0.0135")  # t1 acme support 10:xx
c4, c5 = D("0.0012"), D("0.009")  # t2 globex support 11:xx
c6, c7 = D("0.0175"), D("0.018")  # t3 acme research 12:xx
c8 = D("0.00021")  # t4 o'brien research 13:xx, no section
c9 = D("0.00225")  # t5 acme support 14:xx
TOTAL = c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9  # the call at 07:00 (0.25) is out of range
ACME = c1 + c2 + c3 + c6 + c7 + c9


def hour(h: int) -> dt.datetime:
    return dt.datetime(2025, 1, 1, h, 0)


def T(label: str) -> str:
    return trace_id(label)


ALL = {name: None for name in ("service", "customer", "provider", "model")}


def run(store: Any, board: str, key: str, **variables: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    context = QueryContext(FROM_MS, TO_MS, 3_600_000, {**ALL, "trace_id": T("t1"), **variables})
    return panel_rows(store, dashboard(board).panel(key), context)


OVERVIEW, CUSTOMERS, AGENTS, TRACES = (b.uid for b in DASHBOARDS)

# Panel -> its whole answer with every filter on "All" over 09:00-16:00.
EXPECTED: dict[tuple[str, str], list[tuple[Any, ...]]] = {
    (OVERVIEW, "total_cost"): [(TOTAL,)],
    (OVERVIEW, "calls"): [(9,)],
    (OVERVIEW, "tokens"): [
        (
            1000
            + 0
            + 2000
            + 4000
            + 2000
            + 3000
            + 1000
            + 1000
            + 500
            + 200
            + 0
            + 500
            + 1000
            + 400
            + 1000
            + 1000
            + 100
            + 100,
        )
    ],
    (OVERVIEW, "cost_by_provider"): [
        (hour(10), "anthropic", c3),
        (hour(10), "openai", c1),
        (hour(10), "pinecone", c2),
        (hour(11), "openai", c4 + c5),
        (hour(12), "anthropic", c7),
        (hour(12), "openai", c6),
        (hour(13), "openai", c8),
        (hour(14), "openai", c9),
    ],
    (OVERVIEW, "top_models"): [
        ("openai / gpt-4o", c1 + c5 + c6 + c9),
        ("anthropic / claude-sonnet-4-5", c3 + c7),
        ("openai / gpt-4o-mini", c4 + c8),
        ("pinecone", c2),
    ],
    (OVERVIEW, "top_customers"): [("acme", ACME), ("globex", c4 + c5), ("o'brien", c8)],
    (OVERVIEW, "cost_by_service"): [("research", c6 + c7 + c8), ("support", c1 + c2 + c3 + c4 + c5 + c9)],
    (CUSTOMERS, "customer_cost_over_time"): [
        (hour(10), "acme", c1 + c2 + c3),
        (hour(11), "globex", c4 + c5),
        (hour(12), "acme", c6 + c7),
        (hour(13), "o'brien", c8),
        (hour(14), "acme", c9),
    ],
    (CUSTOMERS, "customer_models"): [
        ("openai", "gpt-4o", 4, 1000 + 2000 + 3000 + 500, 200 + 400 + 1000 + 100, c1 + c5 + c6 + c9),
        ("anthropic", "claude-sonnet-4-5", 2, 2000 + 1000, 500 + 1000, c3 + c7),
        ("openai", "gpt-4o-mini", 2, 4000 + 1000, 1000 + 100, c4 + c8),
        ("pinecone", "", 1, 0, 0, c2),
    ],
    (CUSTOMERS, "customer_sections"): [
        ("agent:support/step:review", 2, c3 + c5),
        ("agent:research/step:write", 1, c7),
        ("agent:research/step:plan", 1, c6),
        ("agent:support/step:draft", 3, c1 + c4 + c9),
        ("agent:support/step:draft/tool:lookup", 1, c2),
        ("(no section)", 1, c8),
    ],
    (CUSTOMERS, "top_traces"): [
        (T("t3"), hour(12), 2, c6 + c7),
        (T("t1"), hour(10), 3, c1 + c2 + c3),
        (T("t2"), hour(11), 2, c4 + c5),
        (T("t5"), hour(14), 1, c9),
        (T("t4"), hour(13), 1, c8),
    ],
    (AGENTS, "section_tree"): [
        ("(no section)", 1, "(no section)", c8, c8, 1),
        ("agent:research", 1, "agent:research", c6 + c7, 0, 2),
        ("agent:research/step:plan", 2, "    step:plan", c6, c6, 1),
        ("agent:research/step:write", 2, "    step:write", c7, c7, 1),
        ("agent:support", 1, "agent:support", c1 + c2 + c3 + c4 + c5 + c9, 0, 6),
        ("agent:support/step:draft", 2, "    step:draft", c1 + c2 + c4 + c9, c1 + c4 + c9, 4),
        ("agent:support/step:draft/tool:lookup", 3, "        tool:lookup", c2, c2, 1),
        ("agent:support/step:review", 2, "    step:review", c3 + c5, c3 + c5, 2),
    ],
    (AGENTS, "section_usage"): [
        ("agent:support/step:draft", 3, 1000 + 4000 + 500, 200 + 1000 + 100, c1 + c4 + c9),
        ("agent:support/step:review", 2, 2000 + 2000, 500 + 400, c3 + c5),
        ("(no section)", 1, 1000, 100, c8),
        ("agent:research/step:plan", 1, 3000, 1000, c6),
        ("agent:research/step:write", 1, 1000, 1000, c7),
        ("agent:support/step:draft/tool:lookup", 1, 0, 0, c2),
    ],
}
EXPECTED[(TRACES, "top_traces")] = EXPECTED[(CUSTOMERS, "top_traces")]


def test_every_panel_is_covered() -> None:
    keys = {(b.uid, p.key) for b in DASHBOARDS for p in b.panels}
    special = {(OVERVIEW, "cost_per_call"), (AGENTS, "agent_runs"), (TRACES, "trace"), (TRACES, "span_costs")}
    assert keys == set(EXPECTED) | special


@pytest.mark.parametrize(("board", "key"), sorted(EXPECTED))
def test_panel_answer(store: Any, board: str, key: str) -> None:
    _, rows = run(store, board, key)
    assert rows == EXPECTED[(board, key)]


def test_cost_per_call(store: Any) -> None:
    columns, rows = run(store, OVERVIEW, "cost_per_call")
    assert columns == ["cost_per_call"]
    assert rows[0][0] == pytest.approx(float(TOTAL / 9), rel=1e-12)


def _float32(value: Decimal) -> float:
    """ClickHouse's t-digest keeps its centroid means as Float32."""
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def test_agent_runs_average_and_p95(store: Any) -> None:
    columns, rows = run(store, AGENTS, "agent_runs")
    assert columns == ["agent", "runs", "avg_cost", "p95_cost", "cost"]
    support_runs = sorted([c1 + c2 + c3, c4 + c5, c9])  # t1, t2, t5, each within one hour
    assert support_runs == [D("0.00225"), D("0.0102"), D("0.0184")]
    # p95 is ClickHouse's quantileTDigest over the run costs (merged from the hourly states): with
    # this few runs each is its own centroid of weight 1, centred at positions 0.5, 1.5, 2.5; the
    # target position 0.95 * 3 = 2.85 lies past the last centre, so the p95 is the largest run's
    # cost (as Float32). One run (research): that run.
    p95 = _float32(support_runs[-1])
    research = c6 + c7
    expected = [
        ("agent:research", 1, float(research), _float32(research), float(research)),
        ("agent:support", 3, float(sum(support_runs) / 3), p95, float(sum(support_runs))),
    ]
    assert [r[:2] for r in rows] == [e[:2] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row[2:] == pytest.approx(want[2:], rel=1e-12)


@pytest.mark.parametrize(
    ("variables", "support_runs"),
    [
        ({"customer": ["acme"]}, [c9, c1 + c2 + c3]),  # t5, t1
        ({"customer": ["globex"]}, [c4 + c5]),  # t2
        ({"service": ["support"], "customer": ["acme", "globex"]}, [c9, c4 + c5, c1 + c2 + c3]),
    ],
)
def test_agent_runs_filtered(store: Any, variables: dict[str, Any], support_runs: list[Decimal]) -> None:
    rows = {r[0]: r[1:] for r in run(store, AGENTS, "agent_runs", **variables)[1]}
    total = sum(support_runs, D(0))
    # t-digest of n singletons at 0.5 ... n - 0.5: 0.95 * n lies past the last for n <= 10: the largest.
    assert rows["agent:support"][0] == len(support_runs)
    assert rows["agent:support"][1:] == pytest.approx(
        (float(total / len(support_runs)), _float32(max(support_runs)), float(total)), rel=1e-12
    )
    # The research agent ran for acme only (t3), and under the research service.
    assert ("agent:research" in rows) == (variables.get("customer") == ["acme"])


def test_a_run_counts_once_in_each_hour_it_spends_in(store: Any) -> None:
    # On 2 Jan, away from every other test's range. Run t6 (support) makes calls at 16:58 (first
    # insert), 16:59 and 17:01 (second insert); run t7 one call at 16:30 (second insert). The refresh
    # after the second insert must recompute 16:00 from all its runs, not from that insert alone.
    def call(trace: str, span: str, minute: int, model: str, tokens: tuple[int, int], cost: str) -> Call:
        return Call(trace, span, "", 30 * 60 + minute, "acme", "support", "openai", model,
                    "agent:support/step:draft", *tokens, D(cost))  # fmt: skip

    x1 = call("t6", "x1", 58, "gpt-4o", (1000, 200), "0.0045")  # 1000*2.5e-6 + 200*10e-6
    x2 = call("t6", "x2", 59, "gpt-4o-mini", (4000, 1000), "0.0012")  # 4000*0.15e-6 + 1000*0.6e-6
    x3 = call("t6", "x3", 61, "gpt-4o", (2000, 400), "0.009")  # 2000*2.5e-6 + 400*10e-6
    x4 = call("t7", "x4", 30, "gpt-4o", (500, 100), "0.00225")  # 500*2.5e-6 + 100*10e-6
    insert_spans(store, [call_row(x1)])
    refresh_views(store)
    insert_spans(store, [call_row(x) for x in (x2, x3, x4)])
    refresh_views(store)
    sixteen = H0 + 30 * 60 * MIN
    board = dashboard(AGENTS).panel("agent_runs")

    def runs(hours: int) -> list[tuple[Any, ...]]:
        context = QueryContext(
            sixteen // 1_000_000, (sixteen + hours * 60 * MIN) // 1_000_000 - 1, 3_600_000, ALL
        )
        return panel_rows(store, board, context)[1]

    t6_16, t7 = x1.cost + x2.cost, x4.cost  # 16:00-16:59: two runs, t6 whole for that hour
    (row,) = runs(1)
    assert row[:2] == ("agent:support", 2)
    assert row[2:] == pytest.approx(
        (float((t6_16 + t7) / 2), _float32(max(t6_16, t7)), float(t6_16 + t7)), rel=1e-12
    )
    # 16:00-17:59: t6 also counts in 17:00 with its 17:01 call, so three runs; the t-digest's
    # p95 of three singletons is the largest (see above): t6's 17:00 part (0.009 > 0.0057).
    (row,) = runs(2)
    assert row[:2] == ("agent:support", 3)
    total = t6_16 + t7 + x3.cost
    assert row[2:] == pytest.approx((float(total / 3), _float32(x3.cost), float(total)), rel=1e-12)


def test_trace_panel_has_the_plugin_trace_columns(store: Any) -> None:
    columns, rows = run(store, TRACES, "trace")
    assert columns == [
        "traceID", "spanID", "parentSpanID", "serviceName", "operationName",
        "startTime", "duration", "tags", "serviceTags", "statusCode",
    ]  # fmt: skip
    assert {r[4] for r in rows} == {
        "POST /ask", "agent:support", "step:draft", "tool:lookup", "step:review",
        "chat gpt-4o", "pinecone query", "chat claude-sonnet-4-5",
    }  # fmt: skip
    assert {r[0] for r in rows} == {T("t1")}
    assert all(r[6] == 2000.0 for r in rows)  # 2 s spans, in ms


def test_span_costs_roll_up_the_span_tree(store: Any) -> None:
    columns, rows = run(store, TRACES, "span_costs")
    by_name = {r[columns.index("span")].strip(): r for r in rows}
    self_cost = {name: r[columns.index("self_cost")] for name, r in by_name.items()}
    subtree = {name: r[columns.index("subtree_cost")] for name, r in by_name.items()}
    depth = {name: r[columns.index("depth")] for name, r in by_name.items()}
    assert subtree == {
        "POST /ask": c1 + c2 + c3,
        "agent:support": c1 + c2 + c3,
        "step:draft": c1 + c2,
        "chat gpt-4o": c1,
        "tool:lookup": c2,
        "pinecone query": c2,
        "step:review": c3,
        "chat claude-sonnet-4-5": c3,
    }
    assert self_cost == {
        "POST /ask": 0, "agent:support": 0, "step:draft": 0, "tool:lookup": 0, "step:review": 0,
        "chat gpt-4o": c1, "pinecone query": c2, "chat claude-sonnet-4-5": c3,
    }  # fmt: skip
    assert depth == {
        "POST /ask": 0, "agent:support": 1, "step:draft": 2, "step:review": 2,
        "chat gpt-4o": 3, "tool:lookup": 3, "chat claude-sonnet-4-5": 3, "pinecone query": 4,
    }  # fmt: skip


def test_span_costs_of_an_unknown_trace_are_empty(store: Any) -> None:
    assert run(store, TRACES, "span_costs", trace_id="ffff")[1] == []


@pytest.mark.parametrize(
    ("variables", "total", "calls"),
    [
        ({"customer": ["acme"]}, ACME, 6),
        ({"customer": ["acme", "o'brien"]}, ACME + c8, 7),
        ({"customer": ["o'brien"]}, c8, 1),
        ({"provider": ["anthropic"]}, c3 + c7, 2),
        ({"model": ["gpt-4o-mini"]}, c4 + c8, 2),
        ({"service": ["research"]}, c6 + c7 + c8, 3),
        ({"customer": ["acme"], "provider": ["openai"], "service": ["support"]}, c1 + c9, 2),
        ({"customer": ["nobody"]}, 0, 0),
    ],
)
def test_filters_change_the_totals(store: Any, variables: dict[str, Any], total: Decimal, calls: int) -> None:
    assert run(store, OVERVIEW, "total_cost", **variables)[1] == [(total,)]
    assert run(store, OVERVIEW, "calls", **variables)[1] == [(calls,)]


def test_customer_filter_on_breakdowns(store: Any) -> None:
    assert run(store, OVERVIEW, "top_models", customer=["globex"])[1] == [
        ("openai / gpt-4o", c5),
        ("openai / gpt-4o-mini", c4),
    ]
    assert run(store, CUSTOMERS, "top_traces", customer=["acme"])[1] == [
        (T("t3"), hour(12), 2, c6 + c7),
        (T("t1"), hour(10), 3, c1 + c2 + c3),
        (T("t5"), hour(14), 1, c9),
    ]
    tree = {r[0]: r[3] for r in run(store, AGENTS, "section_tree", customer=["globex"])[1]}
    assert tree == {
        "agent:support": c4 + c5,
        "agent:support/step:draft": c4,
        "agent:support/step:review": c5,
    }


def test_time_range_excludes_calls_outside_it(store: Any) -> None:
    # 06:00-16:00 takes in the 07:00 call (0.25) as well.
    context = QueryContext(FROM_MS - 3 * 3_600_000, TO_MS, 3_600_000, ALL)
    assert panel_rows(store, dashboard(OVERVIEW).panel("total_cost"), context)[1] == [(TOTAL + D("0.25"),)]
    # 12:00-12:59:59: only t3
    context = QueryContext(FROM_MS + 3 * 3_600_000, FROM_MS + 4 * 3_600_000 - 1000, 3_600_000, ALL)
    assert panel_rows(store, dashboard(OVERVIEW).panel("total_cost"), context)[1] == [(c6 + c7,)]
    runs = panel_rows(store, dashboard(AGENTS).panel("agent_runs"), context)[1]
    assert [(r[0], r[1]) for r in runs] == [("agent:research", 1)]


def test_a_wider_interval_buckets_the_series(store: Any) -> None:
    context = QueryContext(FROM_MS, TO_MS, 4 * 3_600_000, ALL)
    rows = panel_rows(store, dashboard(CUSTOMERS).panel("customer_cost_over_time"), context)[1]
    # 4-hour buckets from the epoch: 08:00-12:00 and 12:00-16:00
    assert rows == [
        (hour(8), "acme", c1 + c2 + c3),
        (hour(8), "globex", c4 + c5),
        (hour(12), "acme", c6 + c7 + c9),
        (hour(12), "o'brien", c8),
    ]


def test_variable_options(store: Any) -> None:
    from llmobserve_otel.dashboards import VARIABLES, variable_options

    context = QueryContext(FROM_MS, TO_MS, 3_600_000, {})
    options = {name: variable_options(store, VARIABLES[name], context) for name in ALL}
    assert options == {
        "service": ["research", "support"],
        "customer": ["acme", "globex", "o'brien"],
        "provider": ["anthropic", "openai", "pinecone"],
        "model": ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"],
    }


def test_rebuilt_rollups_give_the_same_answers(store: Any) -> None:
    # rebuild_rollups() refills every rollup (agent runs, run hours, trace keys too) from the cost table.
    from llmobserve_otel.store import rebuild_rollups

    keys = [(AGENTS, "agent_runs"), (CUSTOMERS, "top_traces"), (OVERVIEW, "total_cost")]
    before = {key: run(store, *key)[1] for key in keys}
    acme_runs = run(store, AGENTS, "agent_runs", customer=["acme"])[1]  # the per-customer states
    rebuild_rollups(store)
    assert {key: run(store, *key)[1] for key in before} == before
    assert run(store, AGENTS, "agent_runs", customer=["acme"])[1] == acme_runs
    assert [r[:2] for r in acme_runs] == [("agent:research", 1), ("agent:support", 2)]
    assert before[(OVERVIEW, "total_cost")] == [(TOTAL,)]
