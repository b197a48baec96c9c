"""Algolia Search: billed per search request and per record.

Wire format: https://www.algolia.com/doc/rest-api/search/ — searches are `POST
/1/indexes/{index}/query` (one request), `POST /1/indexes/*/queries` (one search request per query
in `requests[]`) and `POST /1/indexes/{index}/browse`; record writes are `POST /1/indexes/{index}`,
`PUT /1/indexes/{index}/{objectID}`, `POST /1/indexes/{index}/{objectID}/partial` and the batches
`POST /1/indexes/{index}/batch` and `POST /1/indexes/*/batch` (one record per add/update action;
deletes and clears add none). Counts come from the request, so a response body is never needed.
Algolia bills records by the number stored per month, not per write: pricing each record written
as one record-month is the attribution this library makes (see the price file's note).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._paths import PathTable, match_path
from llmobserve_otel.providers._types import Route, Usage

NAME = "algolia"
# Application hosts: {APP_ID}-dsn.algolia.net, {APP_ID}.algolia.net, {APP_ID}-{1,2,3}.algolianet.com.
HOSTS = ("*.algolia.net", "*.algolianet.com")
TRANSPORTS = ("https",)
SDK = "algoliasearch"
COVERAGE_NOTE = "tested with the sync client (requests); the async client goes through the aiohttp capture; gzip-compressed request bodies are not counted"

SEARCH = Route("search", kind="search")
MULTI_SEARCH = Route("search", kind="search")
WRITE = Route("index", kind="search")
BATCH = Route("index", kind="search")
OPERATIONS = ("search", "index")

_ROUTES: PathTable = (
    ("POST", re.compile(r"/1/indexes/\*/queries"), MULTI_SEARCH),
    ("POST", re.compile(r"/1/indexes/\*/batch"), BATCH),
    ("POST", re.compile(r"/1/indexes/[^/]+/(?:query|browse)"), SEARCH),
    ("POST", re.compile(r"/1/indexes/[^/]+/batch"), BATCH),
    ("POST", re.compile(r"/1/indexes/[^/*]+"), WRITE),
    ("PUT", re.compile(r"/1/indexes/[^/*]+/(?!settings$)[^/]+"), WRITE),  # PUT .../settings stores no record
    ("POST", re.compile(r"/1/indexes/[^/*]+/[^/]+/partial"), WRITE),
)
# Batch actions that add or replace a record; `deleteObject`, `delete`, `clear` store nothing.
RECORD_ACTIONS = frozenset(
    {"addObject", "updateObject", "partialUpdateObject", "partialUpdateObjectNoCreate"}
)


def match(method: str, path: str) -> Route | None:
    return match_path(_ROUTES, method, path)


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if route is SEARCH:
        return {"units": {"search_requests": 1}}
    if route is WRITE:
        return {"units": {"records": 1}}
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list):
        return {}
    if route is MULTI_SEARCH:
        return {"units": {"search_requests": len(requests)}}
    records = sum(1 for r in requests if isinstance(r, dict) and r.get("action") in RECORD_ACTIONS)
    return {"units": {"records": records}}


def parse_json(route: Route, body: Any) -> Usage | None:
    return Usage()  # the counts came from the request; an answer only has to be a success
