"""Chroma: the HTTP API v2 (`/api/v2/tenants/{t}/databases/{d}/collections/{id}/...`), chromadb-client.

Chroma Cloud bills writes per logical GiB written (the raw size of the data sent, however it is
stored) and reads per GiB returned plus per TiB scanned (https://docs.trychroma.com/cloud/pricing).
From the wire:
- writes (add, upsert, update): `llmobserve.usage.bytes_written`, the logical size of the request's
  records: 4 bytes per embedding dimension (float32) plus the UTF-8 size of ids, documents and URIs
  and of the metadata as JSON. An estimate of Chroma's own count, documented as such.
- reads (query, search, get): `llmobserve.usage.bytes_returned`, the response's Content-Length.
  The scanned-TiB part of a read depends on the collection's size, which the wire does not show:
  it is not priced (add it per call with LLMOBSERVE_PRICING_FILE if it matters to you).
"""

from __future__ import annotations

import json
import re
from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "chroma"
HOSTS = ("api.trychroma.com",)
TRANSPORTS = ("https",)
SDK = "chromadb-client"
COVERAGE_NOTE = "Chroma Cloud rates; bytes written estimated from the records (float32 embeddings, text, metadata JSON); the per-TiB-scanned part of reads is not on the wire and not priced"

_COLLECTION = re.compile(r"/api/v[12]/tenants/[^/]+/databases/[^/]+/collections/[^/]+/(?P<action>[a-z_]+)")
_ROUTES: dict[str, Route] = {
    "add": Route("insert", kind="vector_db"),
    "upsert": Route("upsert", kind="vector_db"),
    "update": Route("update", kind="vector_db"),
    "query": Route("query", kind="vector_db"),
    "search": Route("query", kind="vector_db"),
    "get": Route("fetch", kind="vector_db"),
    "delete": Route("delete", kind="vector_db"),
}
_WRITES = frozenset({"insert", "upsert", "update"})
_READS = frozenset({"query", "fetch"})
_FLOAT32 = 4


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    found = _COLLECTION.fullmatch(path.rstrip("/"))
    return _ROUTES.get(found["action"]) if found else None


def _text_bytes(values: Any) -> int:
    if not isinstance(values, list):
        return 0
    return sum(len(value.encode()) for value in values if isinstance(value, str))


def logical_bytes(body: dict[str, Any]) -> int:
    """The raw size of the records in an add/upsert/update body (see the module docstring)."""
    size = _text_bytes(body.get("ids")) + _text_bytes(body.get("documents")) + _text_bytes(body.get("uris"))
    embeddings = body.get("embeddings")
    if isinstance(embeddings, list):
        size += sum(_FLOAT32 * len(vector) for vector in embeddings if isinstance(vector, list))
    metadatas = body.get("metadatas")
    if isinstance(metadatas, list):
        size += sum(
            len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())
            for item in metadatas
            if isinstance(item, dict)
        )
    return size


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if route.operation in _WRITES and isinstance(body, dict):
        return {"units": {"bytes_written": logical_bytes(body)}}
    return {}


def parse_headers(route: Route, headers: Any) -> dict[str, float]:
    if route.operation not in _READS:
        return {}
    length = headers.get("content-length")
    return {"bytes_returned": int(length)} if length and length.isdigit() else {}


def parse_json(route: Route, body: Any) -> Usage | None:
    return None  # Chroma's answers carry no usage; it comes from the request and the headers
