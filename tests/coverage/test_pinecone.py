"""Pinecone serverless through the real `pinecone` SDK (REST data plane over httpx).

Answers follow the data-plane API reference (https://docs.pinecone.io/reference/api/data-plane):
query -> `{"matches", "namespace", "usage": {"readUnits"}}`, upsert -> `{"upsertedCount"}`.
Price (https://www.pinecone.io/pricing/, Standard plan, AWS us-east-1, read 2026-11-26):
USD 16 per million read units, USD 4 per million write units. An upsert's write units are
estimated from its request as the docs define them: 1 WU per KB, at least 5.
"""

from __future__ import annotations

import json
import math

import pytest
from pinecone import Pinecone
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

M = 1_000_000
READ_UNIT = 16.00 / M
WRITE_UNIT = 4.00 / M

QUERY_REPLY = {
    "results": [],
    "matches": [{"id": "vec-1", "score": 0.91, "values": []}, {"id": "vec-2", "score": 0.87, "values": []}],
    "namespace": "docs",
    "usage": {"readUnits": 6},
}


@pytest.fixture
def server():
    with WireServer(
        [
            On("POST", r"/query", lambda r: Reply.json(QUERY_REPLY)),
            On("POST", r"/vectors/upsert", lambda r: Reply.json({"upsertedCount": len(r.json()["vectors"])})),
            On(
                "GET",
                r"/vectors/fetch",
                lambda r: Reply.json({"vectors": {}, "namespace": "docs", "usage": {"readUnits": -1}}),
            ),
            On(
                "POST",
                r"/vectors/update",
                lambda r: Reply.json(
                    {"code": 3, "message": "Vector dimension 2 does not match 3", "details": []}, 400
                ),
            ),
        ]
    ) as running:
        map_host(running, "pinecone")
        yield running


def _index(server: WireServer):
    return Pinecone(api_key="pc-secret-key").Index(host=server.url)


@pytest.mark.provider("pinecone")
def test_query_read_units(server, spans):
    with lo.customer("acme"), lo.section("tool:retrieve"):
        result = _index(server).query(vector=[0.1, 0.2, 0.3], top_k=2, namespace="docs")
    assert result.usage.read_units == 6
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "pinecone"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.usage.read_units"] == 6
    assert attrs["llmobserve.customer.id"] == "acme"
    assert attrs["llmobserve.section.path"] == "tool:retrieve"
    # 6 RU x USD 16 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(6 * READ_UNIT, abs=1e-15)
    sent = server.requests[-1].headers
    assert "baggage" not in sent and "acme" not in json.dumps(sent)
    assert "pc-secret-key" not in json.dumps(attrs)


@pytest.mark.provider("pinecone")
def test_upsert_write_units_from_request_size(server, spans):
    vectors = [{"id": f"vec-{i}", "values": [0.25] * 512, "metadata": {"i": i}} for i in range(4)]
    result = _index(server).upsert(vectors=vectors, namespace="docs")
    assert result.upserted_count == 4
    sent = server.requests[-1].body
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "upsert"
    # 1 WU per KB of request (rounded up), at least 5; the SDK sends compact JSON
    expected_units = max(5, math.ceil(len(sent) / 1024))
    assert expected_units > 5
    assert attrs["llmobserve.usage.write_units"] == expected_units
    assert attrs["llmobserve.cost.usd"] == pytest.approx(expected_units * WRITE_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_small_upsert_bills_the_minimum(server, spans):
    _index(server).upsert(vectors=[{"id": "v", "values": [0.1, 0.2, 0.3]}], namespace="docs")
    attrs = spans.one_call()
    # a 1 KB-or-less request is billed the minimum of 5 WU: 5 x USD 4 / 1,000,000
    assert attrs["llmobserve.usage.write_units"] == 5
    assert attrs["llmobserve.cost.usd"] == pytest.approx(5 * WRITE_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_error_response_not_billed(server, spans):
    with pytest.raises(Exception, match="dimension"):
        _index(server).update(id="vec-1", values=[0.1, 0.2], namespace="docs")
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 400
    assert "llmobserve.cost.usd" not in attrs
    (span,) = spans.provider_calls()
    assert span.status.status_code.name == "ERROR"


@pytest.mark.provider("pinecone")
def test_malformed_usage_is_visible_and_harmless(server, spans):
    result = _index(server).fetch(ids=["vec-1"], namespace="docs")
    assert result.usage.read_units == -1  # the app sees exactly what the server sent
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "fetch"
    assert "llmobserve.usage.read_units" not in attrs
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs


# --- gRPC -------------------------------------------------------------------------------------
# The pinecone SDK >= 8 speaks gRPC through its own Rust channel, invisible to grpcio
# interceptors. What is captured is Pinecone's gRPC wire format from a grpcio client (as
# `pinecone[grpc]` < 8 was): stubs compiled here from the published messages
# (stubs/protos/pinecone_data.proto), served by a real grpcio server.


@pytest.fixture(scope="module")
def pinecone_pb(tmp_path_factory):
    import importlib
    import sys
    from pathlib import Path

    from grpc_tools import protoc

    out = tmp_path_factory.mktemp("pinecone_pb")
    protos = Path(__file__).parent / "stubs" / "protos"
    assert (
        protoc.main(
            [
                "protoc",
                f"-I{protos}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                "pinecone_data.proto",
            ]
        )
        == 0
    )
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("pinecone_data_pb2"), importlib.import_module("pinecone_data_pb2_grpc")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def grpc_index(pinecone_pb):
    import grpc
    from stubs.grpc_server import GrpcServer

    pb, pb_grpc = pinecone_pb

    class VectorService(pb_grpc.VectorServiceServicer):
        def Query(self, request, context):
            if request.namespace == "throttled":
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "Request rate limit exceeded")
            matches = [pb.ScoredVector(id="vec-1", score=0.91)]
            return pb.QueryResponse(
                matches=matches, namespace=request.namespace, usage=pb.Usage(read_units=7)
            )

        def Upsert(self, request, context):
            return pb.UpsertResponse(upserted_count=len(request.vectors))

    with GrpcServer((pb_grpc.add_VectorServiceServicer_to_server, VectorService())) as server:
        map_host(server.host_port, "pinecone")
        channel = grpc.insecure_channel(server.host_port)
        try:
            yield pb, pb_grpc.VectorServiceStub(channel)
        finally:
            channel.close()


@pytest.mark.provider("pinecone")
def test_grpc_query_read_units(grpc_index, spans):
    pb, stub = grpc_index
    with lo.customer("acme"):
        response = stub.Query(
            pb.QueryRequest(namespace="docs", top_k=1, vector=[0.1, 0.2, 0.3]),
            metadata=[("api-key", "pc-secret-key")],
        )
    assert response.usage.read_units == 7
    attrs = spans.one_call()
    assert attrs["rpc.service"] == "VectorService"
    assert attrs["rpc.method"] == "Query"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.usage.read_units"] == 7
    assert attrs["llmobserve.customer.id"] == "acme"
    assert "pc-secret-key" not in json.dumps(attrs)
    # 7 RU x USD 16 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(7 * READ_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_grpc_upsert_write_units_from_message_size(grpc_index, spans):
    pb, stub = grpc_index
    request = pb.UpsertRequest(
        vectors=[pb.Vector(id=f"vec-{i}", values=[0.25] * 512) for i in range(4)], namespace="docs"
    )
    assert stub.Upsert(request).upserted_count == 4
    small = pb.UpsertRequest(vectors=[pb.Vector(id="v", values=[0.1, 0.2, 0.3])], namespace="docs")
    assert stub.Upsert(small).upserted_count == 1
    big, tiny = (dict(span.attributes) for span in spans.provider_calls())
    # 1 WU per KB of the serialized request (rounded up), at least 5
    expected = math.ceil(request.ByteSize() / 1024)
    assert expected == 9  # 4 x 512 float32 = 8 KB of values, plus ids and framing
    assert big["llmobserve.operation"] == "upsert"
    assert big["llmobserve.usage.write_units"] == expected
    assert big["llmobserve.cost.usd"] == pytest.approx(9 * WRITE_UNIT, abs=1e-15)
    assert tiny["llmobserve.usage.write_units"] == 5
    assert tiny["llmobserve.cost.usd"] == pytest.approx(5 * WRITE_UNIT, abs=1e-15)


@pytest.mark.provider("pinecone")
def test_grpc_future_and_error(grpc_index, spans):
    import grpc

    pb, stub = grpc_index
    future = stub.Query.future(pb.QueryRequest(namespace="docs", top_k=1, vector=[0.1, 0.2, 0.3]))
    assert future.result().usage.read_units == 7
    with pytest.raises(grpc.RpcError) as raised:
        stub.Query(pb.QueryRequest(namespace="throttled", top_k=1, vector=[0.1, 0.2, 0.3]))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # A future's done-callbacks run on grpc's thread just after `result()` returns: wait for them.
    import time

    deadline = time.monotonic() + 5
    while len(spans.provider_calls()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    ok, failed = sorted(
        (dict(span.attributes) for span in spans.provider_calls()), key=lambda a: "error.type" in a
    )
    assert ok["llmobserve.cost.usd"] == pytest.approx(7 * READ_UNIT, abs=1e-15)
    assert failed["error.type"] == "RESOURCE_EXHAUSTED"
    assert "llmobserve.cost.usd" not in failed


@pytest.mark.provider("pinecone")
def test_rest_over_urllib3(server, spans):
    """pinecone < 8 (and raw clients) send the same REST calls through urllib3."""
    import urllib3

    with urllib3.PoolManager() as pool:
        response = pool.request(
            "POST",
            f"{server.url}/query",
            body=json.dumps({"vector": [0.1, 0.2, 0.3], "topK": 2, "namespace": "docs"}),
            headers={"Api-Key": "pc-secret-key", "Content-Type": "application/json"},
        )
    assert json.loads(response.data)["usage"] == {"readUnits": 6}
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.read_units"] == 6
    # 6 RU x USD 16 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(6 * READ_UNIT, abs=1e-15)
