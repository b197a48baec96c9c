"""Grafana JSON and provisioning YAML from the dashboard definitions, with grafana-foundation-sdk.

Why grafana-foundation-sdk and not grafanalib: it is Grafana Labs' own dashboards-as-code SDK,
generated from Grafana's schemas (so its JSON is what the installed Grafana version expects), and it
is released with Grafana (the pinned build targets Grafana 11.6); grafanalib's last release dates
from January 2024. The SDK has no builder for the ClickHouse data source's query, so `_ClickHouseQuery`
below is one (`cogvariants.Dataquery`): the target shape grafana-clickhouse-datasource v4 saves
(`editorType: sql`, `rawSql`, `format` 0 time series / 1 table / 3 traces, `queryType`).

The output is deterministic (sorted keys, fixed panel ids), so `dashboards/*.json` is compared with
a fresh render in the tests and by `llmobserve-otel dashboards --check`.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import barchart, common, dashboard, piechart, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import piechart as piechart_models

from llmobserve_otel.dashboards._definitions import DASHBOARDS, TRACE_EXPLORER, VARIABLES
from llmobserve_otel.dashboards._model import ALL, Dashboard, Panel, Variable
from llmobserve_otel.store._schema import TRACES_TABLE

__all__ = (
    "DATASOURCE_TYPE",
    "DATASOURCE_UID",
    "dashboard_json",
    "datasource_yaml",
    "provider_yaml",
    "render_all",
)

DATASOURCE_TYPE = "grafana-clickhouse-datasource"
DATASOURCE_UID = "llmobserve-clickhouse"
_DATASOURCE = models.DataSourceRef(type_val=DATASOURCE_TYPE, uid="${datasource}")

# viz -> (plugin query format, plugin queryType)
_FORMATS = {"timeseries": (0, "timeseries"), "traces": (3, "traces")}


class _ClickHouseQueryModel(cogvariants.Dataquery):
    def __init__(self, sql: str, fmt: int, query_type: str) -> None:
        self.sql, self.fmt, self.query_type = sql, fmt, query_type

    def to_json(self) -> dict[str, object]:
        return {
            "datasource": _DATASOURCE.to_json(),
            "editorType": "sql",
            "format": self.fmt,
            "queryType": self.query_type,
            "rawSql": self.sql,
            "refId": "A",
        }


class _ClickHouseQuery(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, panel: Panel) -> None:
        fmt, query_type = _FORMATS.get(panel.viz, (1, "table"))
        self._model = _ClickHouseQueryModel(panel.sql, fmt, query_type)

    def build(self) -> cogvariants.Dataquery:
        return self._model


def _trace_link() -> dashboard.DashboardLink:
    return dashboard.DashboardLink("Open in the trace explorer").url(
        f"/d/{TRACE_EXPLORER.uid}/?${{__url_time_range}}&var-trace_id=${{__value.raw}}"
    )


def _panel_builder(panel: Panel) -> Any:
    if panel.viz == "stat":
        return (
            stat.Panel()
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .graph_mode(common_models.BigValueGraphMode.NONE)
        )
    if panel.viz == "timeseries":
        # The rollup is hourly: no bucket finer than an hour.
        return (
            timeseries.Panel()
            .interval("1h")
            .fill_opacity(20)
            .display_name(f"${{__field.labels.{panel.label}}}")
        )
    if panel.viz == "barchart":
        return barchart.Panel().x_field(panel.label).orientation(common_models.VizOrientation.HORIZONTAL)
    if panel.viz == "piechart":
        return (
            piechart.Panel()
            .pie_type(piechart_models.PieChartType.DONUT)
            .reduce_options(common.ReduceDataOptions().values(True).calcs(["lastNotNull"]))
        )
    if panel.viz == "traces":
        return dashboard.Panel().type("traces")
    return table.Panel()  # table, tree and spans: indented tables in Grafana


def _panel(panel: Panel, panel_id: int) -> Any:
    builder = (
        _panel_builder(panel)
        .id(panel_id)
        .title(panel.title)
        .description(panel.description)
        .datasource(_DATASOURCE)
        .with_target(_ClickHouseQuery(panel))
        .span(panel.width)
        .height(panel.height)
    )
    if panel.viz != "traces":
        builder = builder.unit(panel.unit)
    if panel.trace_link:
        builder = builder.override_by_name(
            panel.trace_link,
            [models.DynamicConfigValue(id_val="links", value=[_trace_link().build()])],
        )
    return builder


def _variable(variable: Variable) -> Any:
    if variable.kind == "datasource":
        return dashboard.DatasourceVariable(variable.name).label(variable.label).type(DATASOURCE_TYPE)
    if variable.kind == "textbox":
        return dashboard.TextBoxVariable(variable.name).label(variable.label)
    query = {
        "editorType": "sql",
        "format": 1,
        "queryType": "table",
        "rawSql": variable.sql,
        "refId": variable.name,
    }
    return (
        dashboard.QueryVariable(variable.name)
        .label(variable.label)
        .datasource(_DATASOURCE)
        .query(query)
        .multi(variable.multi)
        .include_all(variable.include_all)
        .all_value(f"'{ALL}'")
        .current(models.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.ALPHABETICAL_ASC)
    )


def dashboard_json(board: Dashboard) -> str:
    """The dashboard as Grafana JSON text (sorted keys, 2-space indent, trailing newline)."""
    builder = (
        dashboard.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .time(board.time_from, "now")
        .timezone("utc")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .editable()
    )
    for name in board.variables:
        builder = builder.with_variable(_variable(VARIABLES[name]))
    for panel_id, panel in enumerate(board.panels, start=1):
        builder = builder.with_panel(_panel(panel, panel_id))
    for other in DASHBOARDS:
        if other.uid != board.uid:
            builder = builder.link(
                dashboard.DashboardLink(other.title)
                .type(models.DashboardLinkType.DASHBOARDS)
                .url(f"/d/{other.uid}")
                .include_vars(True)
                .keep_time(True)
            )
    return json.dumps(builder.build(), cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def datasource_yaml(host: str = "clickhouse", port: int = 9000, database: str = "otel") -> str:
    """Provisioning for grafana-clickhouse-datasource, with the OTel trace settings on otel_traces.

    The defaults are deploy/docker-compose.yml's: the `clickhouse` service, database `otel` (as in
    collector-config/rotel/clickhouse.env); user and password come from the environment.
    """
    return f"""# Generated by `llmobserve-otel dashboards`: the ClickHouse data source the dashboards use.
apiVersion: 1
datasources:
  - name: ClickHouse (llmobserve)
    uid: {DATASOURCE_UID}
    type: {DATASOURCE_TYPE}
    isDefault: true
    jsonData:
      host: {host}
      port: {port}
      protocol: native
      secure: false
      username: ${{CLICKHOUSE_USER}}
      defaultDatabase: {database}
      traces:
        defaultDatabase: {database}
        defaultTable: {TRACES_TABLE}
        otelEnabled: true
        otelVersion: latest
        durationUnit: nanoseconds
    secureJsonData:
      password: ${{CLICKHOUSE_PASSWORD}}
"""


def provider_yaml(path: str = "/var/lib/grafana/dashboards/llmobserve") -> str:
    """A file provider that loads the dashboards' JSON from `path`."""
    return f"""# Generated by `llmobserve-otel dashboards`: load the llmobserve dashboards from files.
apiVersion: 1
providers:
  - name: llmobserve
    folder: LLM costs
    type: file
    disableDeletion: false
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: {path}
      foldersFromFilesStructure: false
"""


def render_all() -> dict[str, str]:
    """Every generated file, relative path -> text (the layout of the repository's `dashboards/`)."""
    files = {f"{board.uid}.json": dashboard_json(board) for board in DASHBOARDS}
    files["provisioning/datasources/clickhouse.yaml"] = datasource_yaml()
    files["provisioning/dashboards/llmobserve.yaml"] = provider_yaml()
    return files
