"""The collector's page: its JSON endpoints on a real collector, and the page itself in headless Chromium.

The collector serves the seeded store (`seed.py`); the browser loads `/` from 127.0.0.1, the page
fetches every panel from the collector, and the numbers it shows are checked against the seed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, available
from seed import FROM_MS, TO_MS, seed, trace_id
from test_panels import ACME, TOTAL, c1, c2, c3, c4, c5, c6, c7, c9

from llmobserve_otel.collector._app import Collector, CollectorConfig
from llmobserve_otel.collector._server import ServerThread

ROOT = Path(__file__).resolve().parents[2]
RANGE = f"from={FROM_MS}&to={TO_MS}"


def serve(tmp_path: Path, token: str | None = None) -> Iterator[tuple[str, Collector]]:
    collector = Collector(
        CollectorConfig(clickhouse_url=f"chdb://{tmp_path}/store", pricing=False, token=token)
    )
    collector.open()
    try:
        seed(collector.client)
        with ServerThread(collector) as server:
            yield server.url, collector
    finally:
        collector.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Collector]]:
    yield from serve(tmp_path_factory.mktemp("page"))


def get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
            kind = answer.headers.get("content-type", "")
            return answer.status, json.loads(body) if "json" in kind else body
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, json.loads(body) if body.startswith(b"{") else body


def test_panel_endpoint_runs_the_definitions_sql(served: tuple[str, Collector]) -> None:
    url, _ = served
    status, body = get(f"{url}/api/v1/panels/llmobserve-cost-overview/total_cost?{RANGE}")
    assert status == 200
    assert (body["columns"], body["rows"]) == (["cost"], [[float(TOTAL)]])
    status, body = get(f"{url}/api/v1/panels/llmobserve-cost-overview/total_cost?{RANGE}&customer=acme")
    assert body["rows"] == [[float(ACME)]]
    # two customers, one with a quote in its id
    status, body = get(
        f"{url}/api/v1/panels/llmobserve-cost-overview/calls?{RANGE}&customer=globex&customer=o%27brien"
    )
    assert body["rows"] == [[2 + 1]]
    status, body = get(f"{url}/api/v1/panels/llmobserve-customers/top_traces?{RANGE}&customer=globex")
    assert body["rows"] == [[trace_id("t2"), 1735729200000, 2, float(c4 + c5)]]  # first hour 11:00 in ms


def test_variables_and_definitions(served: tuple[str, Collector]) -> None:
    url, _ = served
    assert get(f"{url}/api/v1/variables/customer?{RANGE}")[1] == {"options": ["acme", "globex", "o'brien"]}
    status, body = get(f"{url}/api/v1/dashboards")
    assert status == 200
    boards = {b["uid"]: b for b in body["dashboards"]}
    assert list(boards) == [
        "llmobserve-cost-overview",
        "llmobserve-customers",
        "llmobserve-agents",
        "llmobserve-trace-explorer",
    ]
    assert "sql" not in json.dumps(body)  # the page gets titles and kinds, never SQL to send back
    assert [p["key"] for p in boards["llmobserve-trace-explorer"]["panels"]] == ["top_traces", "span_costs"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/panels/nope/total_cost",
        "/api/v1/panels/llmobserve-cost-overview/nope",
        "/api/v1/variables/nope",
        f"/api/v1/panels/llmobserve-cost-overview/calls?from={TO_MS}&to={FROM_MS}",
        "/api/v1/panels/llmobserve-cost-overview/calls?from=yesterday",
    ],
)
def test_bad_requests_are_400(served: tuple[str, Collector], path: str) -> None:
    assert get(served[0] + path)[0] == 400


def test_assets_are_served_locally(served: tuple[str, Collector]) -> None:
    url, _ = served
    status, html = get(url + "/")
    assert status == 200
    sources = re.findall(rb'(?:src|href)="([^"]+)"', html)
    assert sources == [b"static/page.css", b"static/echarts.min.js", b"static/page.js"]
    for source in sources:
        status, body = get(f"{url}/{source.decode()}")
        assert status == 200 and len(body) > 1000
    assert b"http" not in get(f"{url}/static/page.js")[1]  # no CDN, no remote call
    assert get(f"{url}/static/../_app.py")[0] == 404


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    if not available():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make chromium` installs Debian's package")
        pytest.skip("chromium is not installed (`make chromium`)")
    profile = tmp_path / "profile"
    profile.mkdir()
    instance = Browser(profile)
    yield instance
    instance.close()


def stat(browser: Browser, key: str) -> tuple[str, str]:
    return tuple(
        browser.evaluate(
            f"(() => {{ const v = document.querySelector('[data-panel={key}] .stat-value');"
            " return [v.dataset.value, v.textContent]; })()"
        )
    )


def test_page_in_chromium(served: tuple[str, Collector], browser: Browser, tmp_path: Path) -> None:
    url, _ = served
    browser.navigate(f"{url}/?dashboard=llmobserve-cost-overview&{RANGE}")
    browser.wait_for("document.body.dataset.ready === '1'")
    assert stat(browser, "total_cost") == (str(float(TOTAL)), "$0.06656")
    assert stat(browser, "calls") == ("9", "9")
    assert browser.evaluate("document.querySelectorAll('[data-panel] canvas').length") >= 4  # ECharts drew
    assert browser.evaluate("document.querySelectorAll('[data-panel] .error').length") == 0
    browser.screenshot(tmp_path / "overview-all.png")

    # The customer filter: pick acme in the select, as a person would; the numbers follow.
    options = browser.evaluate("[...document.querySelectorAll('#var-customer option')].map(o => o.value)")
    assert options == ["", "acme", "globex", "o'brien"]
    browser.evaluate(
        "(() => { const s = document.getElementById('var-customer'); s.value = 'acme';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    browser.wait_for("document.body.dataset.renders === '2' && document.body.dataset.ready === '1'")
    assert stat(browser, "total_cost") == (str(float(ACME)), "$0.05615")
    assert stat(browser, "calls") == ("6", "6")
    assert "customer=acme" in browser.evaluate("location.search")
    browser.screenshot(tmp_path / "overview-acme.png")

    # The section tree (still filtered to acme): agent -> step -> tool, costs rolled up.
    browser.evaluate("document.querySelector('nav button[data-uid=llmobserve-agents]').click()")
    browser.wait_for("document.body.dataset.renders === '3' && document.body.dataset.ready === '1'")
    nodes = browser.evaluate(
        "[...document.querySelectorAll('.tree-node')].map(n => [n.dataset.path, Number(n.dataset.cost),"
        " n.parentElement.closest('.tree-node')?.dataset.path ?? ''])"
    )
    research = c6 + c7
    assert sorted(map(tuple, nodes)) == sorted(
        [
            ("agent:research", float(research), ""),
            ("agent:research/step:plan", float(c6), "agent:research"),
            ("agent:research/step:write", float(c7), "agent:research"),
            ("agent:support", float(c1 + c2 + c3 + c9), ""),
            ("agent:support/step:draft", float(c1 + c2 + c9), "agent:support"),
            ("agent:support/step:draft/tool:lookup", float(c2), "agent:support/step:draft"),
            ("agent:support/step:review", float(c3), "agent:support"),
        ]
    )
    browser.screenshot(tmp_path / "agents-acme.png")

    # The trace view: open t1 from the most expensive traces, see its span tree with costs.
    browser.evaluate("document.querySelector('nav button[data-uid=llmobserve-trace-explorer]').click()")
    browser.wait_for("document.body.dataset.renders === '4' && document.body.dataset.ready === '1'")
    browser.evaluate(f"document.querySelector('a.trace[data-trace=\"{trace_id('t1')}\"]').click()")
    browser.wait_for("document.body.dataset.renders === '5' && document.body.dataset.ready === '1'")
    spans = browser.evaluate(
        "[...document.querySelectorAll('tr.span-row')].map(r => [r.dataset.span, Number(r.dataset.subtreeCost)])"
    )
    assert spans == [
        ["POST /ask", float(c1 + c2 + c3)],
        ["agent:support", float(c1 + c2 + c3)],
        ["step:draft", float(c1 + c2)],
        ["chat gpt-4o", float(c1)],
        ["tool:lookup", float(c2)],
        ["pinecone query", float(c2)],
        ["step:review", float(c3)],
        ["chat claude-sonnet-4-5", float(c3)],
    ]
    assert f"trace_id={trace_id('t1')}" in browser.evaluate("location.search")
    browser.screenshot(tmp_path / "trace.png")
    assert (tmp_path / "trace.png").stat().st_size > 10_000
    if os.environ.get("UPDATE_COLLECTOR_SCREENSHOT"):
        shutil.copy(tmp_path / "overview-all.png", ROOT / "docs" / "collector-page.png")
