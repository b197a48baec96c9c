"""The run-hours states: recomputed by refreshable views for the groups inserts touched, not per insert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from store_helpers import insert, span

from llmobserve_otel import semconv as sc
from llmobserve_otel.store import SchemaOptions, ensure_schema, open_store, refresh_views

H = 1_735_725_600_000_000_000  # 2025-01-01T10:00:00Z
MIN = 60 * 1_000_000_000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    client = open_store("chdb://" + str(tmp_path_factory.mktemp("runhours") / "store"), schema=False)
    # An old store's per-insert view, which ensure_schema must retire (it would keep re-reading).
    client.command("CREATE TABLE llmobserve_costs_runs (x UInt8) ENGINE = Memory")
    client.command(
        "CREATE MATERIALIZED VIEW llmobserve_costs_run_hours_mv ENGINE = Memory AS SELECT x FROM llmobserve_costs_runs"
    )
    client.command("DROP TABLE llmobserve_costs_runs SYNC")
    ensure_schema(client, SchemaOptions(refresh_seconds=1))
    yield client
    client.close()


def call(minute: int, trace: str, cost: str, customer: str = "acme") -> list[Any]:
    return span(
        H + minute * MIN,
        trace,
        {
            sc.PROVIDER: "openai",
            sc.GEN_AI_RESPONSE_MODEL: "gpt-4o",
            sc.CUSTOMER_ID: customer,
            sc.SECTION_PATH: "agent:support/step:draft",
            sc.COST_USD: float(cost),
        },
    )


def states(store: Any, customer: str) -> list[tuple[Any, ...]]:
    return store.query(
        "SELECT toString(hour), run_count, cost_usd FROM llmobserve_costs_run_hours FINAL "
        "WHERE customer = {c:String} ORDER BY hour",
        parameters={"c": customer},
    ).result_rows


def test_the_old_per_insert_view_is_retired(store: Any) -> None:
    views = {r[0] for r in store.query("SHOW TABLES").result_rows}
    assert "llmobserve_costs_run_hours_mv" not in views
    assert {"llmobserve_costs_run_hours_refresh", "llmobserve_costs_agent_hours_refresh"} <= views


def test_a_run_split_over_inserts_is_recomputed_whole(store: Any) -> None:
    insert(store, [call(1, "r1", "0.25", "split")])
    refresh_views(store)
    assert states(store, "split") == [("2025-01-01 10:00:00", 1, Decimal("0.25"))]
    # The second call of the same run comes in a later insert: one run of 0.25 + 0.5, not two runs.
    insert(store, [call(2, "r1", "0.5", "split"), call(3, "r2", "0.125", "split")])
    refresh_views(store)
    assert states(store, "split") == [("2025-01-01 10:00:00", 2, Decimal("0.875"))]
    p95 = store.query(
        "SELECT quantileTDigestMerge(0.95)(run_cost_p95) FROM llmobserve_costs_run_hours FINAL "
        "WHERE customer = 'split'"
    ).result_rows[0][0]
    assert p95 == pytest.approx(0.75, rel=1e-6)  # the two runs: 0.75 and 0.125; t-digest of two points


def test_late_spans_for_an_old_hour_are_recomputed(store: Any) -> None:
    insert(store, [call(-3 * 24 * 60, "old", "1", "late")])  # three days earlier
    refresh_views(store)
    insert(store, [call(-3 * 24 * 60 + 5, "old", "2", "late")])
    refresh_views(store)
    assert states(store, "late") == [("2024-12-29 10:00:00", 1, Decimal("3"))]


def test_the_refresh_runs_on_its_own(store: Any) -> None:
    insert(store, [call(7, "r9", "0.0625", "background")])
    deadline = time.monotonic() + 20
    while not states(store, "background") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert states(store, "background") == [("2025-01-01 10:00:00", 1, Decimal("0.0625"))]
