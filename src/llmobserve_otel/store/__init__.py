"""The ClickHouse store: schema, OTLP-span row mapping, opening a store, and the report queries.

`otel_traces` is the contrib ClickHouse exporter's table; the cost views on top of it are ours
(see `_schema.py` for the tables and how duplicates are kept out of the cost figures).
"""

from __future__ import annotations

from llmobserve_otel.store._client import (
    DEFAULT_URL,
    ENV_URL,
    StoreError,
    StoreLockedError,
    StoreMissingError,
    StoreUnavailableError,
    StoreURL,
    ensure_schema,
    insert_spans,
    open_store,
    parse_url,
    rebuild_rollups,
    refresh_views,
    resolve_url,
)
from llmobserve_otel.store._queries import GROUPINGS, ReportQuery, report_rows, section_rows
from llmobserve_otel.store._schema import (
    COSTS_HOURLY_TABLE,
    COSTS_TABLE,
    COSTS_TRACES_TABLE,
    TRACE_ID_TS_TABLE,
    TRACES_INSERT_COLUMNS,
    TRACES_INSERT_TYPES,
    TRACES_TABLE,
    SchemaOptions,
    schema_statements,
)

__all__ = (
    "COSTS_HOURLY_TABLE",
    "COSTS_TABLE",
    "COSTS_TRACES_TABLE",
    "DEFAULT_URL",
    "ENV_URL",
    "GROUPINGS",
    "TRACES_INSERT_COLUMNS",
    "TRACES_INSERT_TYPES",
    "TRACES_TABLE",
    "TRACE_ID_TS_TABLE",
    "ReportQuery",
    "SchemaOptions",
    "StoreError",
    "StoreLockedError",
    "StoreMissingError",
    "StoreURL",
    "StoreUnavailableError",
    "ensure_schema",
    "insert_spans",
    "open_store",
    "parse_url",
    "rebuild_rollups",
    "refresh_views",
    "report_rows",
    "resolve_url",
    "schema_statements",
    "section_rows",
)
