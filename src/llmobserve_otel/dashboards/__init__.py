"""Cost dashboards defined once, rendered for Grafana and for the local collector's page.

```
_model.py        Dashboard, Panel, Variable: title + SQL + visualisation, as data
_definitions.py  the four dashboards (cost overview, customers, agents and sections, trace explorer)
_macros.py       expanding grafana-clickhouse-datasource macros and template variables as Grafana does
_run.py          running a panel's expanded SQL on a store
_grafana.py      Grafana JSON + provisioning YAML (grafana-foundation-sdk; `dashboards` extra)
```

`llmobserve-otel dashboards` writes the Grafana files; the collector serves the same panels at `/`.
"""

from __future__ import annotations

from llmobserve_otel.dashboards._definitions import DASHBOARDS, VARIABLES, dashboard
from llmobserve_otel.dashboards._macros import MacroError, QueryContext, expand
from llmobserve_otel.dashboards._model import ALL, Dashboard, Panel, Variable
from llmobserve_otel.dashboards._run import panel_rows, run_panel, variable_options

__all__ = (
    "ALL",
    "DASHBOARDS",
    "VARIABLES",
    "Dashboard",
    "MacroError",
    "Panel",
    "QueryContext",
    "Variable",
    "dashboard",
    "expand",
    "panel_rows",
    "run_panel",
    "variable_options",
)
