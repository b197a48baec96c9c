"""Elasticsearch (elasticsearch-py over elastic-transport, on urllib3): searches (vector or not) and writes.

No per-query price exists: Elastic Cloud hosted deployments bill capacity by the hour, and
Serverless bills VCU-hours (https://www.elastic.co/pricing/serverless-search), neither per call;
a self-hosted cluster costs its machines. So calls are priced per operation at a configurable
rate with a nominal default (pricing/data/elasticsearch.toml), as for the other self-hosted
vector databases. `llmobserve.usage.operations` counts what a call ran: 1 per search
(`_search`, `_knn_search`), one per sub-search of `_msearch`, one per document of `_bulk` or an
index/update/delete of one document. A search whose body has `knn` (top level or in the query)
also records `llmobserve.usage.vector_searches = 1`, so vector search can be told apart and priced
apart in LLMOBSERVE_PRICING_FILE. Wire format: https://www.elastic.co/docs/api/doc/elasticsearch/.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "elasticsearch"
# Elastic Cloud hosted (`*.found.io`, `*.elastic-cloud.com`) and Serverless (`*.elastic.cloud`);
# self-hosted clusters are mapped with LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.found.io", "*.elastic-cloud.com", "*.elastic.cloud")
TRANSPORTS = ("https",)
SDK = "elasticsearch"
COVERAGE_NOTE = "no per-call price exists: nominal default USD 1 per million operations; knn searches also record `vector_searches`"

SEARCH = Route("search", kind="vector_db")
MSEARCH = Route("search", kind="vector_db")  # told apart by identity: one operation per sub-search
BULK = Route("write", kind="vector_db")
WRITE = Route("write", kind="vector_db")

_SEARCH = re.compile(r"(?:/[^/_][^/]*)?/(?:_search|_knn_search)")
_MSEARCH = re.compile(r"(?:/[^/_][^/]*)?/_msearch")
_BULK = re.compile(r"(?:/[^/_][^/]*)?/_bulk")
_DOC = re.compile(r"/[^/_][^/]*/(?:_doc|_create|_update)(?:/[^/]+)?")


def match(method: str, path: str) -> Route | None:
    path = path.rstrip("/")
    if method in ("GET", "POST") and _SEARCH.fullmatch(path):
        return SEARCH
    if method in ("GET", "POST") and _MSEARCH.fullmatch(path):
        return MSEARCH
    if method in ("POST", "PUT") and _BULK.fullmatch(path):
        return BULK
    if method in ("POST", "PUT", "DELETE") and _DOC.fullmatch(path):
        return WRITE
    return None


def _has_knn(body: Any, depth: int = 0) -> bool:
    """`knn` at the top level of a search body or anywhere in its query (bounded depth)."""
    if depth > 8:
        return False
    if isinstance(body, dict):
        return "knn" in body or any(_has_knn(value, depth + 1) for value in body.values())
    if isinstance(body, list):
        return any(_has_knn(item, depth + 1) for item in body)
    return False


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if route is SEARCH:
        units = {"operations": 1}
        if isinstance(body, dict) and _has_knn(body):
            units["vector_searches"] = 1
        return {"units": units}
    if route is WRITE:
        return {"units": {"operations": 1}}
    return {}  # _msearch / _bulk bodies are NDJSON: counted from the answer


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    if route is MSEARCH and isinstance(body.get("responses"), list):
        return Usage(units={"operations": len(body["responses"])})
    if route is BULK and isinstance(body.get("items"), list):
        return Usage(units={"operations": len(body["items"])})
    return Usage() if route in (SEARCH, WRITE) else None  # counted from the request
