"""MongoDB Atlas Vector Search: `$vectorSearch` aggregations and the writes that feed them (pymongo).

Commands, not HTTP: the pymongo capture (command monitoring) asks `match_command` which commands
are billed and `parse_command` what they consumed. Atlas publishes no per-query price for Vector
Search (it is billed through the cluster tier or Search Nodes), so calls are priced per operation
at a configurable default (`pricing/data/mongodb.toml`). One billed command is one operation,
however many documents it carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "mongodb"
# Atlas clusters (`cluster0.abcde.mongodb.net`); self-hosted servers are mapped with
# LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.mongodb.net",)
TRANSPORTS = ("mongodb",)
SDK = "pymongo"
COVERAGE_NOTE = "tested against a wire-level stub (pymongo speaks OP_MSG to it; no MongoDB server here); no published per-query price: nominal USD 1 per million operations"

QUERY = Route("query", kind="vector_db")
_WRITES: dict[str, Route] = {
    "insert": Route("insert", kind="vector_db"),
    "update": Route("update", kind="vector_db"),
    "delete": Route("delete", kind="vector_db"),
}
_VECTOR_STAGES = ("$vectorSearch",)


def match(method: str, path: str) -> Route | None:
    return None  # not an HTTP API


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    return None


def match_command(name: str, command: Any) -> Route | None:
    """`aggregate` whose pipeline holds a `$vectorSearch` stage, and the write commands."""
    if name == "aggregate":
        pipeline = command.get("pipeline") if isinstance(command, Mapping) else None
        if isinstance(pipeline, list) and any(
            isinstance(stage, Mapping) and any(key in stage for key in _VECTOR_STAGES) for stage in pipeline
        ):
            return QUERY
        return None
    return _WRITES.get(name)


def parse_command(route: Route, command: Any, reply: Any) -> Usage | None:
    if not isinstance(reply, Mapping) or reply.get("ok") not in (1, 1.0, True):
        return None
    return Usage(units={"operations": 1})
