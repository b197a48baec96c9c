"""Qdrant: points API over REST (`/collections/{name}/points/...`) and gRPC (`qdrant.Points`).

Qdrant Cloud bills cluster resources by the hour, not per call, and self-hosted Qdrant has no
per-call price, so calls are priced per operation at a configurable rate (`pricing/data/qdrant.toml`).
`llmobserve.usage.operations` counts the searches a call ran: 1, or one per query of a batch
(the response's `result` list). REST: https://api.qdrant.tech/api-reference ; gRPC:
`points_service.proto` shipped with qdrant-client.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "qdrant"
# Qdrant Cloud clusters; self-hosted servers are mapped with LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.cloud.qdrant.io",)
TRANSPORTS = ("https", "grpc")
SDK = "qdrant-client"
COVERAGE_NOTE = "no per-call price (Qdrant Cloud bills cluster hours): nominal default of USD 1 per million operations, set yours in LLMOBSERVE_PRICING_FILE"

QUERY = Route("query", kind="vector_db")
QUERY_BATCH = Route("query", kind="vector_db")  # told apart by identity: counts one request per query
UPSERT = Route("upsert", kind="vector_db")
UPDATE = Route("update", kind="vector_db")
DELETE = Route("delete", kind="vector_db")
FETCH = Route("fetch", kind="vector_db")

_POINTS = re.compile(r"/collections/[^/]+/points(?P<rest>(?:/[a-z_/]+)?)")
# (method, path after /points) -> route
_REST: dict[tuple[str, str], Route] = {
    ("PUT", ""): UPSERT,
    ("POST", ""): FETCH,  # retrieve points by id
    ("POST", "/batch"): UPDATE,
    ("POST", "/delete"): DELETE,
    ("PUT", "/vectors"): UPDATE,
    ("POST", "/vectors/delete"): UPDATE,
    ("POST", "/payload"): UPDATE,
    ("PUT", "/payload"): UPDATE,
    ("POST", "/payload/delete"): UPDATE,
    ("POST", "/payload/clear"): UPDATE,
    ("POST", "/scroll"): FETCH,
    ("POST", "/count"): FETCH,
    ("POST", "/query"): QUERY,
    ("POST", "/query/groups"): QUERY,
    ("POST", "/query/batch"): QUERY_BATCH,
    # Endpoints of Qdrant < 1.15 (still served, used by older clients and raw HTTP).
    ("POST", "/search"): QUERY,
    ("POST", "/search/groups"): QUERY,
    ("POST", "/search/batch"): QUERY_BATCH,
    ("POST", "/recommend"): QUERY,
    ("POST", "/recommend/groups"): QUERY,
    ("POST", "/recommend/batch"): QUERY_BATCH,
    ("POST", "/discover"): QUERY,
    ("POST", "/discover/batch"): QUERY_BATCH,
}

_GRPC: dict[str, Route] = {
    "/qdrant.Points/Upsert": UPSERT,
    "/qdrant.Points/Delete": DELETE,
    "/qdrant.Points/Get": FETCH,
    "/qdrant.Points/Scroll": FETCH,
    "/qdrant.Points/Count": FETCH,
    "/qdrant.Points/UpdateVectors": UPDATE,
    "/qdrant.Points/DeleteVectors": UPDATE,
    "/qdrant.Points/SetPayload": UPDATE,
    "/qdrant.Points/OverwritePayload": UPDATE,
    "/qdrant.Points/DeletePayload": UPDATE,
    "/qdrant.Points/ClearPayload": UPDATE,
    "/qdrant.Points/UpdateBatch": UPDATE,
    "/qdrant.Points/Search": QUERY,
    "/qdrant.Points/SearchGroups": QUERY,
    "/qdrant.Points/Recommend": QUERY,
    "/qdrant.Points/RecommendGroups": QUERY,
    "/qdrant.Points/Discover": QUERY,
    "/qdrant.Points/Query": QUERY,
    "/qdrant.Points/QueryGroups": QUERY,
    "/qdrant.Points/SearchBatch": QUERY_BATCH,
    "/qdrant.Points/RecommendBatch": QUERY_BATCH,
    "/qdrant.Points/DiscoverBatch": QUERY_BATCH,
    "/qdrant.Points/QueryBatch": QUERY_BATCH,
}


def match(method: str, path: str) -> Route | None:
    found = _POINTS.fullmatch(path.rstrip("/"))
    if found is None:
        return None
    return _REST.get((method, found["rest"]))


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict) or "result" not in body:
        return None
    count = len(body["result"]) if route is QUERY_BATCH and isinstance(body["result"], list) else 1
    return Usage(units={"operations": count})


def match_grpc(method: str) -> Route | None:
    return _GRPC.get(method)


def parse_grpc(route: Route, method: str, response: Any) -> Usage | None:
    count = len(getattr(response, "result", ())) if route is QUERY_BATCH else 1
    return Usage(units={"operations": count})
