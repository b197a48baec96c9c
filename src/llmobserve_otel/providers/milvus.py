"""Milvus / Zilliz Cloud: the `milvus.proto.milvus.MilvusService` gRPC API (pymilvus).

Zilliz Cloud serverless bills read and write operations in vCUs (USD 4 per million, see
`pricing/data/milvus.toml`) and reports each call's consumption in the response's
`status.extra_info["report_value"]` (pymilvus exposes it as the result's `cost`); it becomes
`llmobserve.usage.vcu`. A self-hosted Milvus reports none: the call counts as one
`llmobserve.usage.operations`, priced at a configurable per-operation default.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "milvus"
# Zilliz Cloud endpoints (serverless `*.serverless.<region>.cloud.zilliz.com`, dedicated
# `*.<region>.vectordb.zillizcloud.com`); self-hosted Milvus is mapped with LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.cloud.zilliz.com", "*.zillizcloud.com")
TRANSPORTS = ("grpc",)
SDK = "pymilvus"
COVERAGE_NOTE = "Zilliz Cloud serverless vCUs from status.extra_info.report_value; self-hosted Milvus (none reported): nominal USD 1 per million operations"

_SERVICE = "/milvus.proto.milvus.MilvusService/"
_GRPC: dict[str, Route] = {
    _SERVICE + "Search": Route("query", kind="vector_db"),
    _SERVICE + "HybridSearch": Route("query", kind="vector_db"),
    _SERVICE + "Query": Route("fetch", kind="vector_db"),
    _SERVICE + "Insert": Route("insert", kind="vector_db"),
    _SERVICE + "Upsert": Route("upsert", kind="vector_db"),
    _SERVICE + "Delete": Route("delete", kind="vector_db"),
}


def match(method: str, path: str) -> Route | None:
    return None  # pymilvus speaks gRPC; the RESTful API v2 is not captured yet


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    return None


def match_grpc(method: str) -> Route | None:
    return _GRPC.get(method)


def parse_grpc(route: Route, method: str, response: Any) -> Usage | None:
    status = getattr(response, "status", None)
    extra = getattr(status, "extra_info", None)
    value = extra.get("report_value") if extra is not None else None
    if value is not None:
        try:
            vcu = float(value)
        except ValueError:
            return None  # unreadable: the span says no usage instead of guessing
        if vcu >= 0:
            return Usage(units={"vcu": vcu})
        return None
    return Usage(units={"operations": 1})
