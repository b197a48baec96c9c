"""Redis vector search: RediSearch `FT.SEARCH` / `FT.AGGREGATE` with a KNN or VECTOR_RANGE clause,
Redis 8 vector sets (`VSIM`, `VADD`), and the writes that store vectors (`HSET`, `JSON.SET`).

Commands, not HTTP: the redis-py capture asks `match_command` which commands are billed and
`parse_command` what they consumed. Redis Cloud has no per-command price (it bills the
subscription's memory and throughput), so calls are priced per operation at a configurable
default (`pricing/data/redis.toml`). Only servers mapped to this provider are observed, and there
every `HSET` / `JSON.SET` counts as a vector write: map only the Redis that holds your vectors.
"""

from __future__ import annotations

from typing import Any

from llmobserve_otel.providers._types import Route, Usage

NAME = "redis"
# Redis Cloud databases; self-hosted servers are mapped with LLMOBSERVE_PROVIDER_HOSTS.
HOSTS = ("*.redis-cloud.com", "*.redislabs.com")
TRANSPORTS = ("redis",)
SDK = "redis"
COVERAGE_NOTE = "FT.SEARCH tested against a wire-level RESP2/RESP3 stub (Debian redis-server has no RediSearch); HSET and pipelines against a real redis-server; no per-command price: nominal USD 1 per million operations"

QUERY = Route("query", kind="vector_db")
UPSERT = Route("upsert", kind="vector_db")

_SEARCH = frozenset({"FT.SEARCH", "FT.AGGREGATE", "FT.HYBRID"})
_VECTOR_CLAUSES = ("KNN", "VECTOR_RANGE")
_COMMANDS: dict[str, Route] = {
    "VSIM": QUERY,
    "VADD": UPSERT,
    "HSET": UPSERT,
    "HMSET": UPSERT,
    "JSON.SET": UPSERT,
    "JSON.MSET": UPSERT,
}


def match(method: str, path: str) -> Route | None:
    return None  # not an HTTP API


def request_info(route: Route, body: Any) -> dict[str, Any]:
    return {}


def parse_json(route: Route, body: Any) -> Usage | None:
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return None  # a vector blob, not the query
    return value if isinstance(value, str) else None


def match_command(name: str, args: Any) -> Route | None:
    """`name` is the command (any case); `args` the arguments after it."""
    name = name.upper()
    if name in _SEARCH:
        # The query string is the argument after the index name.
        query = _text(args[1]) if isinstance(args, (list, tuple)) and len(args) > 1 else None
        if query is not None and any(clause in query.upper() for clause in _VECTOR_CLAUSES):
            return QUERY
        return None
    return _COMMANDS.get(name)


def parse_command(route: Route, args: Any, reply: Any) -> Usage | None:
    return Usage(units={"operations": 1})
