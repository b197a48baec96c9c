"""Pinecone serverless: the data plane (`{index}.svc.{region}.pinecone.io`) over REST and gRPC.

Billing (https://docs.pinecone.io/guides/manage-cost/understanding-cost): reads in read units,
writes in write units. Reads report theirs in the response: REST `usage.readUnits` (records
search: `usage.read_units`), gRPC `QueryResponse.usage.read_units`. A response that reports
`usage.writeUnits` is used as is. An upsert answers only `upsertedCount`, so its write units are
estimated from the request as the docs define them: 1 WU per KB of request, at least 5 per request
(REST: the request's compact JSON size; gRPC: the serialized request message's size).
Update and delete bill by the size of records on the server, which the wire does not show: their
spans carry no usage (visible as `llmobserve.usage.status`).

The pinecone SDK >= 8 speaks gRPC through its own Rust channel, which grpc interceptors cannot
see; the gRPC side here covers grpcio clients (`pinecone[grpc]` < 8, generated stubs).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from llmobserve_otel.providers._json import as_int, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "pinecone"
HOSTS = ("*.pinecone.io",)
TRANSPORTS = ("https", "grpc")
SDK = "pinecone"
COVERAGE_NOTE = "REST via httpx (pinecone>=8); gRPC captured for grpcio clients only: pinecone>=8 speaks gRPC through its own Rust channel, which grpc interceptors cannot see (gRPC tested with stubs compiled from the published messages); upsert write units estimated from the request size (1 WU per KB, min 5; REST JSON or gRPC message); update/delete carry no usage"

QUERY = Route("query", kind="vector_db")
FETCH = Route("fetch", kind="vector_db")
LIST = Route("list", kind="vector_db")
UPSERT = Route("upsert", kind="vector_db")
UPDATE = Route("update", kind="vector_db")
DELETE = Route("delete", kind="vector_db")

_REST: dict[tuple[str, str], Route] = {
    ("POST", "/query"): QUERY,
    ("GET", "/vectors/fetch"): FETCH,
    ("POST", "/vectors/fetch_by_metadata"): FETCH,
    ("GET", "/vectors/list"): LIST,
    ("POST", "/vectors/upsert"): UPSERT,
    ("POST", "/vectors/update"): UPDATE,
    ("POST", "/vectors/delete"): DELETE,
}
_RECORDS = re.compile(r"/records/namespaces/[^/]+/(?P<action>search|upsert)")
_GRPC: dict[str, Route] = {
    "/VectorService/Query": QUERY,
    "/VectorService/Fetch": FETCH,
    "/VectorService/FetchByMetadata": FETCH,
    "/VectorService/List": LIST,
    "/VectorService/Upsert": UPSERT,
    "/VectorService/Update": UPDATE,
    "/VectorService/Delete": DELETE,
}

WRITE_UNIT_BYTES = 1024
MIN_WRITE_UNITS = 5


def match(method: str, path: str) -> Route | None:
    path = path.rstrip("/")
    route = _REST.get((method, path))
    if route is None and method == "POST" and (found := _RECORDS.fullmatch(path)):
        route = QUERY if found["action"] == "search" else UPSERT
    return route


def estimated_write_units(request_bytes: int) -> int:
    """Write units of an upsert of `request_bytes`: 1 per KB (rounded up), at least 5."""
    return max(MIN_WRITE_UNITS, math.ceil(request_bytes / WRITE_UNIT_BYTES))


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if route is UPSERT and isinstance(body, dict):
        size = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
        return {"units": {"write_units": estimated_write_units(size)}}
    return {}


def _usage(usage: Any) -> Usage | None:
    units: dict[str, float] = {}
    for key, unit in (
        ("readUnits", "read_units"),
        ("read_units", "read_units"),
        ("writeUnits", "write_units"),
        ("write_units", "write_units"),
    ):
        value = as_int(dig(usage, key))
        if value is not None:
            units[unit] = value
    return Usage(units=units) if units else None


def parse_json(route: Route, body: Any) -> Usage | None:
    if not isinstance(body, dict):
        return None
    return _usage(body.get("usage"))


def match_grpc(method: str) -> Route | None:
    return _GRPC.get(method)


def grpc_request_units(route: Route, method: str, request: Any) -> dict[str, float]:
    byte_size = getattr(request, "ByteSize", None)
    if route is UPSERT and callable(byte_size):
        return {"write_units": estimated_write_units(byte_size())}
    return {}


def parse_grpc(route: Route, method: str, response: Any) -> Usage | None:
    usage = getattr(response, "usage", None)
    has_field = getattr(response, "HasField", None)
    try:
        if usage is None or (has_field is not None and not has_field("usage")):
            return None
    except ValueError:  # a message without a `usage` field
        return None
    read_units = getattr(usage, "read_units", None)
    if isinstance(read_units, int) and not isinstance(read_units, bool) and read_units >= 0:
        return Usage(units={"read_units": read_units})
    return None
