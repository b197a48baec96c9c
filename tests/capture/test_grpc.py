"""The gRPC capture's mechanics on a real grpcio client and server (sync and asyncio).

The provider-level tests (tests/coverage/test_{qdrant,milvus,weaviate,pinecone}.py) cover unary
calls through the SDKs. Here: server streams (usage added up over messages), channels no provider
claims (left untouched), nothing added to the call's metadata, a parser failure (the app is
unaffected, the span says so) and uninstrument. The test service `streamtest.Vectors/Query`
streams Pinecone-shaped replies (`usage.read_units`) and is added to the pinecone provider's method
table for the test; the stream shape is this test's own, not Pinecone's API.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
import grpc.aio
import pytest
from wire import map_host

from llmobserve_otel import capture
from llmobserve_otel.capture.grpc import CAPTURE
from llmobserve_otel.providers import pinecone

PROTO = """
syntax = "proto3";
package streamtest;
message QueryRequest { string namespace = 1; uint32 top_k = 2; }
message Usage { optional uint32 read_units = 1; }
message QueryResponse { string namespace = 3; optional Usage usage = 4; }
service Vectors { rpc Query(QueryRequest) returns (stream QueryResponse); }
"""
READ_UNIT = 16.00 / 1_000_000  # Pinecone Standard plan, USD 16 per million read units


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("stream_pb")
    (out / "stream_test.proto").write_text(PROTO)
    assert (
        protoc.main(
            ["protoc", f"-I{out}", f"--python_out={out}", f"--grpc_python_out={out}", "stream_test.proto"]
        )
        == 0
    )
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("stream_test_pb2"), importlib.import_module("stream_test_pb2_grpc")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def server(pb, monkeypatch):
    monkeypatch.setitem(pinecone._GRPC, "/streamtest.Vectors/Query", pinecone.QUERY)
    messages, services = pb
    seen_metadata: list[dict] = []

    class Vectors(services.VectorsServicer):
        def Query(self, request, context):
            seen_metadata.append(dict(context.invocation_metadata()))
            for units in (1, 2, 3):
                yield messages.QueryResponse(
                    namespace=request.namespace, usage=messages.Usage(read_units=units)
                )

    grpc_server = grpc.server(ThreadPoolExecutor(max_workers=2))
    services.add_VectorsServicer_to_server(Vectors(), grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    try:
        yield f"127.0.0.1:{port}", seen_metadata
    finally:
        grpc_server.stop(grace=None)


def test_server_stream_usage_added_up(pb, server, spans):
    messages, services = pb
    target, seen_metadata = server
    map_host(target, "pinecone")
    with grpc.insecure_channel(target) as channel:
        replies = list(services.VectorsStub(channel).Query(messages.QueryRequest(namespace="docs", top_k=1)))
    assert [r.usage.read_units for r in replies] == [1, 2, 3]
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.read_units"] == 6
    # (1 + 2 + 3) RU x USD 16 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(6 * READ_UNIT, abs=1e-15)
    assert not {"traceparent", "baggage"} & set(seen_metadata[-1])


def test_async_server_stream(pb, server, spans):
    messages, services = pb
    target, _ = server
    map_host(target, "pinecone")

    async def run() -> list:
        async with grpc.aio.insecure_channel(target) as channel:
            call = services.VectorsStub(channel).Query(messages.QueryRequest(namespace="docs", top_k=1))
            return [reply.usage.read_units async for reply in call]

    assert asyncio.run(run()) == [1, 2, 3]
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.read_units"] == 6
    assert "llmobserve.usage.incomplete" not in attrs


def test_unclaimed_target_untouched(pb, server, spans):
    messages, services = pb
    target, _ = server  # not mapped to any provider
    with grpc.insecure_channel(target) as channel:
        assert type(channel).__module__ == "grpc._channel"  # not wrapped by interceptors
        assert len(list(services.VectorsStub(channel).Query(messages.QueryRequest(top_k=1)))) == 3
    assert spans.provider_calls() == []


def test_parser_failure_is_fail_open(pb, server, spans, monkeypatch):
    messages, services = pb
    target, _ = server
    map_host(target, "pinecone")
    monkeypatch.setenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "0")

    def broken(route, method, response):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(pinecone, "parse_grpc", broken)
    with grpc.insecure_channel(target) as channel:
        replies = list(services.VectorsStub(channel).Query(messages.QueryRequest(top_k=1)))
    assert len(replies) == 3  # the app's messages are untouched
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "response not parsed: RuntimeError"
    assert "llmobserve.cost.usd" not in attrs


def test_uninstrument_and_again(pb, server, spans):
    messages, services = pb
    target, _ = server
    map_host(target, "pinecone")
    CAPTURE.uninstrument()
    try:
        assert not CAPTURE.instrumented
        with grpc.insecure_channel(target) as channel:
            list(services.VectorsStub(channel).Query(messages.QueryRequest(top_k=1)))
        assert spans.provider_calls() == []
    finally:
        capture.instrument(["grpc"])
    assert CAPTURE.instrumented
    capture.instrument(["grpc"])  # idempotent: one wrapper, one span
    with grpc.insecure_channel(target) as channel:
        list(services.VectorsStub(channel).Query(messages.QueryRequest(top_k=1)))
    assert len(spans.provider_calls()) == 1


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("127.0.0.1:6334", ("127.0.0.1", 6334)),
        (
            "dns:///index-abc.svc.aped-4627-b74a.pinecone.io:443",
            ("index-abc.svc.aped-4627-b74a.pinecone.io", 443),
        ),
        ("ipv4:10.0.0.5:19530", ("10.0.0.5", 19530)),
        ("[::1]:50051", ("::1", 50051)),
        ("Grpc-Cluster.Weaviate.Cloud", ("grpc-cluster.weaviate.cloud", None)),
        ("unix:/tmp/milvus.sock", ("unix", None)),
    ],
)
def test_target_parsing(target, expected):
    from llmobserve_otel.capture._rpc import host_port

    assert host_port(target) == expected
