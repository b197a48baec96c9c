"""Report queries: rollup + edge reads over time windows, filters, duplicates from other writers."""

from __future__ import annotations

from typing import Any

import pytest
from store_helpers import insert, span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import ReportQuery, rebuild_rollups, report_rows
from llmobserve_otel.store._queries import recent_span_keys

MIN = 60 * 1_000_000_000
H0 = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z


def call(customer: str, cost: float, tokens: int) -> dict[str, Any]:
    return {
        sc.PROVIDER: "openai",
        sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
        sc.CUSTOMER_ID: customer,
        sc.COST_USD: cost,
        sc.GEN_AI_USAGE_INPUT_TOKENS: tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 1,
    }


@pytest.fixture(scope="module", autouse=True)
def calls(store: Any) -> None:
    # One call every 25 minutes from 10:10 to 12:40, costs 1, 2, 4, ... so each sum names its calls.
    rows = [
        span(H0 + (10 + 25 * i) * MIN, f"t{i}", call("acme" if i % 2 else "globex", 2.0**i, i))
        for i in range(7)
    ]
    insert(store, rows)


def costs(store: Any, **query: Any) -> dict[str, tuple[float, int]]:
    return {r["key"]: (r["cost_usd"], r["calls"]) for r in report_rows(store, ReportQuery(**query))}


# minute of each call: 10, 35, 60, 85, 110, 135, 160 -> hours 10, 10, 11, 11, 11, 12, 12


def test_all_time_reads_the_rollup(store: Any) -> None:
    assert costs(store, by="customer") == {"globex": (1 + 4 + 16 + 64, 4), "acme": (2 + 8 + 32, 3)}


@pytest.mark.parametrize(
    ("since_min", "until_min", "expected"),
    [
        # head edge (10:20-11:00 raw) + whole hour 11 (rollup) + tail edge (12:00-12:36 raw)
        (20, 156, {"acme": (2 + 8 + 32, 3), "globex": (4 + 16, 2)}),
        # inside one hour: raw rows only
        (5, 40, {"globex": (1, 1), "acme": (2, 1)}),
        # exact hour bounds: rollup only
        (60, 120, {"globex": (4 + 16, 2), "acme": (8, 1)}),
        # open-ended
        (100, None, {"globex": (16 + 64, 2), "acme": (32, 1)}),
        (None, 61, {"globex": (1 + 4, 2), "acme": (2, 1)}),
        # until is exclusive: the call at minute 60 is out
        (None, 60, {"globex": (1, 1), "acme": (2, 1)}),
    ],
)
def test_time_windows_are_exact(
    store: Any, since_min: int | None, until_min: int | None, expected: dict
) -> None:
    since = H0 + since_min * MIN if since_min is not None else None
    until = H0 + until_min * MIN if until_min is not None else None
    assert costs(store, by="customer", since_ns=since, until_ns=until) == expected


def test_customer_filter_and_limit(store: Any) -> None:
    assert costs(store, by="trace", customer="acme") == {
        b"t5".hex().rjust(32, "0"): (32, 1),
        b"t3".hex().rjust(32, "0"): (8, 1),
        b"t1".hex().rjust(32, "0"): (2, 1),
    }
    rows = report_rows(store, ReportQuery(by="trace", limit=2))
    assert [r["cost_usd"] for r in rows] == [64, 32]


@pytest.mark.parametrize(
    ("since_min", "until_min", "customer", "limit", "expected"),
    [
        # head edge 10:20-11:00 (raw: t1) + hour 11 (trace-keys rollup: t2, t3, t4) + tail 12:00-12:36 (t5)
        (20, 156, None, 3, [5, 4, 3]),
        (20, 156, "acme", 3, [5, 3, 1]),
        (5, 40, None, 1, [1]),  # inside one hour: raw rows only
        (None, None, "globex", 2, [6, 4]),
    ],
)
def test_top_traces_over_any_window(
    store: Any,
    since_min: int | None,
    until_min: int | None,
    customer: str | None,
    limit: int,
    expected: list[int],
) -> None:
    since = H0 + since_min * MIN if since_min is not None else None
    until = H0 + until_min * MIN if until_min is not None else None
    rows = report_rows(
        store, ReportQuery(by="trace", since_ns=since, until_ns=until, customer=customer, limit=limit)
    )
    # Trace t<i> holds the one call costing 2**i.
    assert [(r["key"], r["cost_usd"]) for r in rows] == [
        (f"t{i}".encode().hex().rjust(32, "0"), 2.0**i) for i in expected
    ]


def test_copies_from_another_writer_are_counted_once_by_the_cost_table(store: Any) -> None:
    # A retry that reached ClickHouse twice (e.g. through two collectors): same trace and span id.
    row = span(H0 + 200 * MIN, "dup", call("dup-co", 0.5, 10), span_id=424242)
    insert(store, [row])
    insert(store, [row])
    assert store.query(
        "SELECT count() FROM llmobserve_costs FINAL WHERE customer = 'dup-co'"
    ).result_rows == [(1,)]
    # Reads of one trace come from the cost table: exact. (The rollups rely on the collector
    # never sending them a copy; see store/_schema.py.)
    trace_id = b"dup".hex().rjust(32, "0")
    assert costs(store, by="customer", trace_id=trace_id) == {"dup-co": (0.5, 1)}
    assert costs(store, by="customer", customer="dup-co") == {"dup-co": (1.0, 2)}  # the rollup saw both
    rebuild_rollups(store)
    assert costs(store, by="customer", customer="dup-co") == {"dup-co": (0.5, 1)}
    assert costs(store, by="trace", customer="dup-co") == {trace_id: (0.5, 1)}
    assert costs(store, by="customer") == {"globex": (85, 4), "acme": (42, 3), "dup-co": (0.5, 1)}


def test_rejects_bad_queries() -> None:
    with pytest.raises(ValueError, match="cannot group by 'colour'"):
        ReportQuery(by="colour")
    with pytest.raises(ValueError, match="later than"):
        ReportQuery(since_ns=10, until_ns=10)


def test_query_round_trips_through_http_params() -> None:
    query = ReportQuery(by="model", since_ns=1, until_ns=2, customer="acme", trace_id="ab", limit=3)
    assert ReportQuery.from_params(query.as_params()) == query
    assert ReportQuery.from_params({}) == ReportQuery()


def test_recent_keys_prime_the_duplicate_window(store: Any) -> None:
    import time

    now = time.time_ns()
    insert(
        store,
        [
            span(now, "recent", call("acme", 0.1, 1), span_id=99),
            span(now - 7200 * 10**9, "old", call("acme", 0.1, 1)),
        ],
    )
    assert recent_span_keys(store, limit=10) == [b"recent".rjust(16, b"\x00") + (99).to_bytes(8, "big")]
