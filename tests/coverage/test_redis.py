"""Redis vector search through the real `redis` (redis-py) client.

Two servers, said plainly:
- `FT.SEARCH` (RediSearch) runs against a WIRE-LEVEL RESP2 STUB (`stubs/resp_stub.py`): Debian's
  redis-server has no search module. Replies follow https://redis.io/docs/latest/commands/ft.search/
  (`[total, key, [field, value, ...], ...]`).
- Plain commands (`HSET`, pipelines, `GET`) run against a REAL redis-server from Debian's
  packages (`apt-get install redis-server`), started on a free port; skipped where it is missing.

Price: Redis Cloud has no per-command price (https://redis.io/pricing/), so billed commands are
priced per operation at the documented default of USD 1 per million.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import struct
import subprocess
import time

import pytest
import redis
import redis.asyncio
from redis.commands.search.query import Query
from stubs.resp_stub import Error, RespStub
from wire import map_host

import llmobserve_otel as lo

DEFAULT_PER_OPERATION = 1.00 / 1_000_000
VECTOR = struct.pack("<3f", 0.1, 0.2, 0.3)
KNN = "*=>[KNN 2 @embedding $vec AS score]"


def _search_reply(args: list[bytes], protocol: int):
    if args[0].upper() != b"FT.SEARCH":
        return None
    if args[1] == b"missing":
        return Error("missing: no such index")
    if protocol == 2:
        return [
            2,
            b"doc:1",
            [b"score", b"0.12", b"title", b"first"],
            b"doc:2",
            [b"score", b"0.34", b"title", b"second"],
        ]
    return {  # RESP3 map
        "attributes": [],
        "format": "STRING",
        "results": [
            {"id": "doc:1", "extra_attributes": {"score": "0.12", "title": "first"}, "values": []},
            {"id": "doc:2", "extra_attributes": {"score": "0.34", "title": "second"}, "values": []},
        ],
        "total_results": 2,
        "warning": [],
    }


@pytest.fixture
def search_stub():
    with RespStub(_search_reply) as stub:
        map_host(stub.host_port, "redis")
        yield stub


def _knn(client, index: str = "docs"):
    query = Query(KNN).return_fields("score", "title").sort_by("score").dialect(2)
    return client.ft(index).search(query, query_params={"vec": VECTOR})


@pytest.mark.provider("redis")
def test_knn_search_priced_per_operation(search_stub, spans):
    client = redis.Redis(host="127.0.0.1", port=search_stub.port)
    with lo.customer("acme"), lo.section("tool:retrieve"):
        result = _knn(client)
    assert [doc.id for doc in result.docs] == ["doc:1", "doc:2"]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "redis"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["db.system"] == "redis"
    assert attrs["db.operation.name"] == "FT.SEARCH"
    assert attrs["server.port"] == search_stub.port
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "tool:retrieve"
    assert attrs["llmobserve.usage.operations"] == 1
    # 1 operation x USD 1 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
    sent = search_stub.commands[-1]
    assert sent[:3] == [b"FT.SEARCH", b"docs", KNN.encode()] and VECTOR in sent  # bytes untouched


@pytest.mark.provider("redis")
def test_knn_search_resp2(search_stub, spans):
    result = _knn(redis.Redis(host="127.0.0.1", port=search_stub.port, protocol=2))
    assert result.total == 2
    assert spans.one_call()["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("redis")
def test_text_search_not_billed(search_stub, spans):
    redis.Redis(host="127.0.0.1", port=search_stub.port).ft("docs").search(Query("@title:first"))
    assert spans.provider_calls() == []


@pytest.mark.provider("redis")
def test_search_error_marks_span(search_stub, spans):
    client = redis.Redis(host="127.0.0.1", port=search_stub.port)
    with pytest.raises(redis.ResponseError, match="no such index"):
        _knn(client, "missing")
    attrs = spans.one_call()
    assert attrs["error.type"] == "ResponseError"
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("redis")
def test_async_knn_search(search_stub, spans):
    async def run() -> None:
        client = redis.asyncio.Redis(host="127.0.0.1", port=search_stub.port)
        query = Query(KNN).return_fields("score").dialect(2)
        result = await client.ft("docs").search(query, query_params={"vec": VECTOR})
        assert result.total == 2
        await client.aclose()

    asyncio.run(run())
    attrs = spans.one_call()
    assert attrs["db.operation.name"] == "FT.SEARCH"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.fixture(scope="module")
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        map_host(f"127.0.0.1:{port}", "redis")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.provider("redis")
def test_vector_write_on_real_redis(redis_server, spans):
    client = redis.Redis(host="127.0.0.1", port=redis_server)
    written = client.hset("doc:1", mapping={"title": "first", "embedding": VECTOR})
    assert written == 2
    assert client.hget("doc:1", "embedding") == VECTOR  # a read is not a billed call
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "upsert"
    assert attrs["db.operation.name"] == "HSET"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("redis")
def test_pipeline_one_span_per_billed_command(redis_server, spans):
    client = redis.Redis(host="127.0.0.1", port=redis_server)
    with client.pipeline() as pipe:
        pipe.hset("doc:2", mapping={"embedding": VECTOR})
        pipe.get("counter")
        pipe.hset("doc:3", mapping={"embedding": VECTOR})
        replies = pipe.execute()
    assert replies == [1, None, 1]
    calls = [dict(span.attributes) for span in spans.provider_calls()]
    assert [c["db.operation.name"] for c in calls] == ["HSET", "HSET"]
    # 2 billed commands x USD 1 / 1,000,000
    assert sum(c["llmobserve.cost.usd"] for c in calls) == pytest.approx(2 * DEFAULT_PER_OPERATION, abs=1e-15)
