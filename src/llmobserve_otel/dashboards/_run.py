"""Running a panel's SQL on a store: expand it as Grafana would, query, return JSON-able rows."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmobserve_otel.dashboards._macros import QueryContext, expand
from llmobserve_otel.dashboards._model import Panel, Variable

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

__all__ = ("panel_rows", "run_panel", "variable_options")


def panel_rows(
    client: Client, panel: Panel, context: QueryContext
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows exactly as ClickHouse returns them (Decimal sums stay Decimal)."""
    result = client.query(expand(panel.sql, context))
    return list(result.column_names), [tuple(row) for row in result.result_rows]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return int(value.timestamp() * 1000)  # Unix ms, as Grafana's time fields
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def run_panel(client: Client, panel: Panel, context: QueryContext) -> dict[str, Any]:
    """`{"columns": [...], "rows": [[...], ...]}` with numbers as floats and times as Unix ms."""
    columns, rows = panel_rows(client, panel, context)
    return {"columns": columns, "rows": [[_json_value(v) for v in row] for row in rows]}


def variable_options(client: Client, variable: Variable, context: QueryContext) -> list[str]:
    """A query variable's options (the first column of its SQL)."""
    if variable.kind != "query":
        return []
    result = client.query(expand(variable.sql, context))
    return [str(row[0]) for row in result.result_rows]
