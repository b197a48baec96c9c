"""The redis-py capture's mechanics against the wire-level RESP stub.

Provider behaviour (what is billed, prices, a real redis-server) is in tests/coverage/test_redis.py.
Here: servers no provider claims are not observed, a failed command inside a pipeline marks only
its own span, a parser failure leaves the app alone, uninstrument stops capture.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redis
from wire import map_host

from llmobserve_otel import capture
from llmobserve_otel.capture.redis import CAPTURE
from llmobserve_otel.providers import redis as redis_provider

sys.path.insert(0, str(Path(__file__).parents[1] / "coverage"))
from stubs.resp_stub import NIL, Error, RespStub

KNN = "*=>[KNN 1 @embedding $vec AS score]"


def _answer(args: list[bytes], protocol: int):
    name = args[0].upper()
    if name == b"FT.SEARCH":
        return {"attributes": [], "format": "STRING", "results": [], "total_results": 0, "warning": []}
    if name == b"HSET":
        return (
            Error("WRONGTYPE Operation against a key holding the wrong kind of value")
            if args[1] == b"bad"
            else 1
        )
    if name == b"GET":
        return NIL
    return None


@pytest.fixture
def stub():
    with RespStub(_answer) as running:
        yield running


def _search(client) -> None:
    client.execute_command("FT.SEARCH", "docs", KNN, "PARAMS", "2", "vec", b"\x00" * 12, "DIALECT", "2")


def test_unclaimed_server_not_observed(stub, spans):
    _search(redis.Redis(host="127.0.0.1", port=stub.port))
    assert spans.provider_calls() == []


def test_failed_command_in_pipeline(stub, spans):
    map_host(stub.host_port, "redis")
    client = redis.Redis(host="127.0.0.1", port=stub.port)
    with client.pipeline(transaction=False) as pipe:
        pipe.hset("good", "embedding", b"\x00" * 12)
        pipe.hset("bad", "embedding", b"\x00" * 12)
        replies = pipe.execute(raise_on_error=False)
    assert replies[0] == 1 and isinstance(replies[1], redis.ResponseError)
    good, bad = (dict(span.attributes) for span in spans.provider_calls())
    assert good["llmobserve.cost.usd"] == pytest.approx(1.00 / 1_000_000, abs=1e-15)
    assert bad["error.type"] == "ResponseError"
    assert "llmobserve.cost.usd" not in bad


def test_parser_failure_is_fail_open(stub, spans, monkeypatch):
    map_host(stub.host_port, "redis")
    monkeypatch.setenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "0")

    def broken(route, args, reply):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(redis_provider, "parse_command", broken)
    _search(redis.Redis(host="127.0.0.1", port=stub.port))
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "reply not parsed: RuntimeError"
    assert "llmobserve.cost.usd" not in attrs


def test_uninstrument_and_again(stub, spans):
    map_host(stub.host_port, "redis")
    client = redis.Redis(host="127.0.0.1", port=stub.port)
    CAPTURE.uninstrument()
    try:
        assert not CAPTURE.instrumented
        _search(client)
        assert spans.provider_calls() == []
    finally:
        capture.instrument(["redis"])
    capture.instrument(["redis"])  # idempotent: one wrapper, one span
    _search(client)
    assert len(spans.provider_calls()) == 1


def test_async_pipeline(stub, spans):
    import asyncio

    import redis.asyncio

    map_host(stub.host_port, "redis")

    async def run() -> list:
        client = redis.asyncio.Redis(host="127.0.0.1", port=stub.port)
        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.hset("good", "embedding", b"\x00" * 12)
                pipe.get("counter")
                return await pipe.execute()
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [1, None]
    attrs = spans.one_call()
    assert attrs["db.operation.name"] == "HSET"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1.00 / 1_000_000, abs=1e-15)
