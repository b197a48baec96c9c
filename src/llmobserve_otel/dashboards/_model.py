"""What a dashboard is made of: panels (title + SQL + visualisation) and template variables. Pure data.

One definition feeds both renderers: `_grafana.py` turns it into Grafana JSON for the official
ClickHouse data source, and the collector's page (`collector/_page.py`) runs the same SQL through
`_macros.expand` and draws the rows with the same visualisation kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ("ALL", "Dashboard", "Panel", "Variable", "Viz")

Viz = Literal["stat", "timeseries", "barchart", "piechart", "table", "tree", "spans", "traces"]
"""How a panel draws its rows. `tree` is a table of section paths with their depth (Grafana shows
it as an indented table, the local page as a collapsible tree); `spans` is one trace's spans with
their costs (a table in Grafana, a waterfall on the local page); `traces` is Grafana's trace view."""

ALL = "__all__"
"""The value a variable takes when "All" is selected (its Grafana `allValue` is this as a SQL literal)."""


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable."""

    name: str
    label: str
    kind: Literal["datasource", "query", "textbox"]
    sql: str = ""
    """Query variables: SQL whose first column lists the options (macros allowed)."""
    multi: bool = True
    include_all: bool = True


@dataclass(frozen=True)
class Panel:
    """One panel: a title, the SQL it runs and how its rows are drawn."""

    key: str
    """Stable id within its dashboard (the local page's endpoint name)."""
    title: str
    sql: str
    viz: Viz
    description: str = ""
    unit: str = "short"
    """Grafana unit id of the value columns: `currencyUSD`, `short`, `ms`, ..."""
    width: int = 12
    height: int = 8
    value: str = ""
    """The column holding the number (stat, bar and pie charts, the time series' values)."""
    label: str = ""
    """The category column (bar and pie charts) or the series column of a time series."""
    trace_link: str = ""
    """A column holding a trace id: each value links to the trace explorer for that trace."""
    local: bool = True
    """Shown on the collector's page (Grafana's traces view is not: the page has its own)."""


@dataclass(frozen=True)
class Dashboard:
    """A dashboard: panels laid out in order, left to right, top to bottom."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[str, ...]
    tags: tuple[str, ...] = field(default=("llmobserve", "cost"))
    time_from: str = "now-7d"

    def panel(self, key: str) -> Panel:
        for panel in self.panels:
            if panel.key == key:
                return panel
        raise KeyError(key)
