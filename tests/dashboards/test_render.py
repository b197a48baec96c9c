"""The committed Grafana files are what the definitions render, and their shape is what Grafana loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmobserve_otel.cli import main
from llmobserve_otel.dashboards import DASHBOARDS

pytest.importorskip("grafana_foundation_sdk", reason="the dashboards extra (Python 3.11+)")
from llmobserve_otel.dashboards._grafana import render_all

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(render_all()))
def test_committed_file_matches_the_definitions(name: str) -> None:
    committed = (ROOT / "dashboards" / name).read_text(encoding="utf-8")
    assert committed == render_all()[name], f"dashboards/{name} is stale: run `llmobserve-otel dashboards`"


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "--check", "--out", str(ROOT / "dashboards")]) == 0
    assert main(["dashboards", "--check", "--out", str(tmp_path)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["dashboards", "--out", str(tmp_path)]) == 0
    assert main(["dashboards", "--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "llmobserve-agents.json").write_text("{}")
    assert main(["dashboards", "--check", "--out", str(tmp_path)]) == 1


def test_dashboard_json_shape() -> None:
    for board in DASHBOARDS:
        data = json.loads(render_all()[f"{board.uid}.json"])
        assert data["uid"] == board.uid
        variables = {v["name"]: v for v in data["templating"]["list"]}
        assert list(variables) == list(board.variables)
        assert variables["datasource"]["query"] == "grafana-clickhouse-datasource"
        for name in ("service", "customer", "provider", "model"):
            assert variables[name]["includeAll"] is True
            assert variables[name]["allValue"] == "'__all__'"
            assert variables[name]["multi"] is True
        panels = data["panels"]
        assert [p["title"] for p in panels] == [p.title for p in board.panels]
        for panel, definition in zip(panels, board.panels, strict=True):
            (target,) = panel["targets"]
            assert target["rawSql"] == definition.sql
            assert target["datasource"] == {"type": "grafana-clickhouse-datasource", "uid": "${datasource}"}
            assert (target["format"], target["queryType"]) == {
                "timeseries": (0, "timeseries"),
                "traces": (3, "traces"),
            }.get(definition.viz, (1, "table"))
            # Panels read the typed cost tables, not the raw attribute maps, except the traces view.
            if definition.viz != "traces" and definition.key != "span_costs":
                assert "SpanAttributes" not in definition.sql and "otel_traces" not in definition.sql


def test_trace_links_point_at_the_trace_explorer() -> None:
    data = json.loads(render_all()["llmobserve-customers.json"])
    top = next(p for p in data["panels"] if p["title"] == "Most expensive traces")
    (override,) = top["fieldConfig"]["overrides"]
    assert override["matcher"] == {"id": "byName", "options": "trace_id"}
    (link,) = override["properties"][0]["value"]
    assert link["url"].startswith("/d/llmobserve-trace-explorer/?")
    assert "var-trace_id=${__value.raw}" in link["url"]


def test_provisioning() -> None:
    files = render_all()
    datasource = files["provisioning/datasources/clickhouse.yaml"]
    assert "type: grafana-clickhouse-datasource" in datasource
    assert "uid: llmobserve-clickhouse" in datasource
    assert "defaultTable: otel_traces" in datasource and "otelEnabled: true" in datasource
    provider = files["provisioning/dashboards/llmobserve.yaml"]
    assert "type: file" in provider and "path: /var/lib/grafana/dashboards/llmobserve" in provider
