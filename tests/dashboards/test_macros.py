"""The macro and variable expansion, against the strings grafana-clickhouse-datasource produces.

Expected outputs follow the plugin's pkg/macros/macros.go (time range 2025-01-01 09:00:00 to
16:00:00 UTC = 1735722000 .. 1735747200 s) and Grafana's `sqlstring` variable format.
"""

from __future__ import annotations

import pytest

from llmobserve_otel.dashboards import MacroError, QueryContext, expand

FROM_MS, TO_MS = 1_735_722_000_123, 1_735_747_200_999
CTX = QueryContext(FROM_MS, TO_MS, 60_000, {"customer": ["acme", "o'brien"], "provider": None, "one": "x"})


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("$__timeFilter(hour)", "hour >= toDateTime(1735722000) AND hour <= toDateTime(1735747200)"),
        (
            "$__timeFilter_ms(ts)",
            "ts >= fromUnixTimestamp64Milli(1735722000123) AND ts <= fromUnixTimestamp64Milli(1735747200999)",
        ),
        ("$__dateFilter(d)", "d >= toDate('2025-01-01') AND d <= toDate('2025-01-01')"),
        (
            "$__dt(d, t)",
            "(d >= toDate('2025-01-01') AND d <= toDate('2025-01-01')) AND "
            "(t >= toDateTime(1735722000) AND t <= toDateTime(1735747200))",
        ),
        ("$__fromTime, $__toTime", "toDateTime(1735722000), toDateTime(1735747200)"),
        (
            "$__fromTime_ms $__toTime_ms",
            "fromUnixTimestamp64Milli(1735722000123) fromUnixTimestamp64Milli(1735747200999)",
        ),
        ("$__timeInterval(hour)", "toStartOfInterval(toDateTime(hour), INTERVAL 60 second)"),
        ("$__timeInterval_ms(ts)", "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 60000 millisecond)"),
        ("$__interval_s", "60"),
        # nested parentheses and commas inside a macro's argument
        (
            "$__timeFilter(toDateTime(concat('a,)', x)))",
            "toDateTime(concat('a,)', x)) >= toDateTime(1735722000) AND toDateTime(concat('a,)', x)) <= toDateTime(1735747200)",
        ),
        # variables: sqlstring quotes each value and doubles quotes; All inserts the all value as is
        ("c IN (${customer:sqlstring})", "c IN ('acme','o''brien')"),
        ("p IN (${provider:sqlstring})", "p IN ('__all__')"),
        ("'${one}' = $one = [[one]]", "'x' = x = x"),
        ("${unknown} $unknown", "${unknown} $unknown"),
    ],
)
def test_expansion(sql: str, expanded: str) -> None:
    assert expand(sql, CTX) == expanded


def test_backslashes_cannot_leave_the_quotes() -> None:
    context = QueryContext(FROM_MS, TO_MS, variables={"customer": ["a\\", "b' OR 1=1 --"]})
    assert expand("${customer:sqlstring}", context) == "'a\\\\','b'' OR 1=1 --'"


def test_interval_is_at_least_one_second() -> None:
    context = QueryContext(FROM_MS, TO_MS, interval_ms=10)
    assert expand("$__timeInterval(t) $__interval_s", context) == (
        "toStartOfInterval(toDateTime(t), INTERVAL 1 second) 1"
    )


@pytest.mark.parametrize("sql", ["$__timeFilter(a, b)", "$__timeFilter", "$__nope", "$__timeFilter(a"])
def test_bad_macros_raise(sql: str) -> None:
    with pytest.raises(MacroError):
        expand(sql, CTX)
