"""The collector's page: the Grafana dashboards' panels, served locally for people without Grafana.

```
GET /                                 the page (static/index.html): tabs per dashboard, filters, charts
GET /static/{name}                    its script, styles and the vendored chart library (ECharts)
GET /api/v1/dashboards                the dashboard definitions (titles, panels, variables; no SQL)
GET /api/v1/panels/{uid}/{key}        one panel's rows: its SQL expanded like Grafana, run on the store
GET /api/v1/variables/{name}          a filter's options
```

Panel and variable queries take `from` and `to` (Unix ms; default the last 7 days), `interval`
(ms; default: hours, at most about 150 buckets) and one or more values per filter (`customer=acme`,
repeatable; absent or `__all__` means All). The SQL is the definitions' own: the page cannot send
any, and values are quoted by the expander. Every asset is package data: no CDN.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from llmobserve_otel.dashboards import ALL, DASHBOARDS, VARIABLES, QueryContext, dashboard, run_panel
from llmobserve_otel.dashboards._run import variable_options

__all__ = ("page_routes",)

_log = logging.getLogger(__name__)

_HOUR_MS = 3_600_000
_MAX_BUCKETS = 150
_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "echarts.min.js": "text/javascript; charset=utf-8",
    "echarts.LICENSE": "text/plain; charset=utf-8",
}


class _Host(Protocol):
    """What the page needs from the collector."""

    @property
    def client(self) -> Any: ...

    def _authorized(self, request: Request) -> bool: ...


def _asset(name: str) -> bytes:
    return resources.files("llmobserve_otel.collector").joinpath("static", name).read_bytes()


def _context(request: Request) -> QueryContext:
    """The query context from the request's parameters; ValueError on a bad one."""
    params = request.query_params
    now_ms = int(time.time() * 1000)
    to_ms = int(params.get("to") or now_ms)
    from_ms = int(params.get("from") or to_ms - 7 * 24 * _HOUR_MS)
    if to_ms <= from_ms:
        raise ValueError("`to` must be later than `from`")
    interval = params.get("interval")
    if interval:
        interval_ms = max(int(interval), 1000)
    else:  # whole hours (the rollup's grain), few enough buckets to draw
        hours = -(-(to_ms - from_ms) // (_HOUR_MS * _MAX_BUCKETS))
        interval_ms = max(hours, 1) * _HOUR_MS
    variables: dict[str, Any] = {}
    for name, variable in VARIABLES.items():
        if variable.kind == "datasource":
            continue
        values = [v for v in params.getlist(name) if v != ""]
        if variable.kind == "textbox":
            variables[name] = values[0] if values else ""
        else:
            variables[name] = None if not values or ALL in values else values
    return QueryContext(from_ms, to_ms, interval_ms, variables)


def _definitions() -> list[dict[str, Any]]:
    return [
        {
            "uid": board.uid,
            "title": board.title,
            "description": board.description,
            "variables": [name for name in board.variables if name != "datasource"],
            "panels": [
                {
                    "key": p.key,
                    "title": p.title,
                    "description": p.description,
                    "viz": p.viz,
                    "unit": p.unit,
                    "width": p.width,
                    "height": p.height,
                    "value": p.value,
                    "label": p.label,
                    "trace_link": p.trace_link,
                }
                for p in board.panels
                if p.local
            ],
        }
        for board in DASHBOARDS
    ]


def page_routes(host: _Host) -> list[Route]:
    """The page's routes, bound to a collector (its store handle and token check)."""

    def guarded(handler: Callable[[Request, Any], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            if not host._authorized(request):
                return JSONResponse({"error": "missing or wrong bearer token"}, 401)
            client = host.client
            if client is None:
                return JSONResponse({"error": "collector is shutting down"}, 503)
            try:
                return await handler(request, client)
            except (ValueError, KeyError) as exc:
                return JSONResponse({"error": f"bad request: {exc}"}, 400)

        return endpoint

    async def page(request: Request) -> Response:
        return Response(_asset("index.html"), media_type=_STATIC["index.html"])

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return Response("not found", 404)
        return Response(
            _asset(name), media_type=_STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
        )

    async def definitions(request: Request, client: Any) -> Response:
        return JSONResponse({"dashboards": _definitions()})

    async def panel(request: Request, client: Any) -> Response:
        board = dashboard(request.path_params["uid"])
        definition = board.panel(request.path_params["key"])
        context = _context(request)
        started = time.perf_counter()
        try:
            data = await run_in_threadpool(run_panel, client, definition, context)
        except Exception as exc:  # the store failed: say so, the page shows it on the panel
            _log.warning("llmobserve collector: panel %s/%s failed: %s", board.uid, definition.key, exc)
            return JSONResponse({"error": f"query failed: {exc}"}, 503)
        data["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return JSONResponse(data)

    async def options(request: Request, client: Any) -> Response:
        variable = VARIABLES[request.path_params["name"]]
        values = await run_in_threadpool(variable_options, client, variable, _context(request))
        return JSONResponse({"options": values})

    return [
        Route("/", page, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/api/v1/dashboards", guarded(definitions), methods=["GET"]),
        Route("/api/v1/panels/{uid}/{key}", guarded(panel), methods=["GET"]),
        Route("/api/v1/variables/{name}", guarded(options), methods=["GET"]),
    ]
