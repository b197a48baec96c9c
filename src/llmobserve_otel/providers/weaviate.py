"""Weaviate: REST (`/v1/objects`, `/v1/batch/...`, `/v1/graphql`) and gRPC (`weaviate.v1.Weaviate`).

The v4 Python client queries over gRPC (`Search`, `Aggregate`) and writes single objects over
REST, batches over gRPC (`BatchObjects`, or the `BatchStream` of Weaviate >= 1.33).
Weaviate Cloud bills stored vector dimensions per month, never per call
(https://docs.weaviate.io/cloud/platform/billing), and self-hosted Weaviate costs its machines, so
calls are priced per operation at a configurable default (`pricing/data/weaviate.toml`); a batch
write is one operation (the gRPC batch reply lists only failed objects, so the count of objects
written is not on the wire there).
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "weaviate"
# Weaviate Cloud clusters; self-hosted servers are mapped with LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.weaviate.cloud", "*.weaviate.network")
TRANSPORTS = ("https", "grpc")
SDK = "weaviate-client"
COVERAGE_NOTE = "no per-call price (Weaviate Cloud bills stored dimensions): nominal default of USD 1 per million operations, set yours in LLMOBSERVE_PRICING_FILE"

QUERY = Route("query", kind="vector_db")
INSERT = Route("insert", kind="vector_db")
UPDATE = Route("update", kind="vector_db")
DELETE = Route("delete", kind="vector_db")
FETCH = Route("fetch", kind="vector_db")

_OBJECT = re.compile(r"/v1/objects/[^/]+(?:/[^/]+)?")
_REST: dict[tuple[str, str], Route] = {
    ("POST", "/v1/objects"): INSERT,
    ("POST", "/v1/batch/objects"): INSERT,
    ("DELETE", "/v1/batch/objects"): DELETE,
    ("POST", "/v1/graphql"): QUERY,
}
_OBJECT_ROUTES = {"PUT": UPDATE, "PATCH": UPDATE, "DELETE": DELETE, "GET": FETCH}
_GRPC: dict[str, Route] = {
    "/weaviate.v1.Weaviate/Search": QUERY,
    "/weaviate.v1.Weaviate/Aggregate": QUERY,
    "/weaviate.v1.Weaviate/BatchObjects": INSERT,
    "/weaviate.v1.Weaviate/BatchDelete": DELETE,
}


def match(method: str, path: str) -> Route | None:
    path = path.rstrip("/")
    route = _REST.get((method, path))
    if route is None and _OBJECT.fullmatch(path):
        route = _OBJECT_ROUTES.get(method)
    return route


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    if route is QUERY and isinstance(body, dict) and body.get("errors") and not body.get("data"):
        return None  # a GraphQL error answered with 200: no search ran
    return Usage(units={"operations": 1})


def match_grpc(method: str) -> Route | None:
    return _GRPC.get(method)


def parse_grpc(route: Route, method: str, response: Any) -> Usage | None:
    return Usage(units={"operations": 1})
