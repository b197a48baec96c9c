"""Weaviate through the real `weaviate-client` v4: inserts over REST (httpx), queries over gRPC.

REST answers follow https://weaviate.io/developers/weaviate/api/rest (`/v1/meta`, `/v1/objects`);
the gRPC server is a real grpcio server built from the stubs the client ships
(`weaviate.proto.v1`: `Weaviate/Search` -> `SearchReply`).

Price: Weaviate Cloud bills stored dimensions, not calls (https://docs.weaviate.io/cloud/platform/billing),
so calls are priced per operation at the documented default of USD 1 per million operations.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
import weaviate
from stubs.grpc_server import GrpcServer
from weaviate.proto.v1 import batch_pb2, search_get_pb2, weaviate_pb2_grpc
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

DEFAULT_PER_OPERATION = 1.00 / 1_000_000
OBJECT_ID = "d200e840-2d51-42a2-a885-c39227ca86d7"
META = {"hostname": "http://[::]:8080", "modules": {}, "version": "1.33.0", "grpcMaxMessageSize": 104858000}


def _created(request) -> Reply:
    sent = request.json()
    return Reply.json({**sent, "creationTimeUnix": 1764198000000, "lastUpdateTimeUnix": 1764198000000})


class Weaviate(weaviate_pb2_grpc.WeaviateServicer):
    def Search(self, request, context):
        if request.collection == "Missing":
            context.abort(grpc.StatusCode.NOT_FOUND, 'could not find class "Missing" in schema')
        metadata = search_get_pb2.MetadataResult(
            id=OBJECT_ID, id_as_bytes=uuid.UUID(OBJECT_ID).bytes, distance=0.12, distance_present=True
        )
        result = search_get_pb2.SearchResult(metadata=metadata, properties=search_get_pb2.PropertiesResult())
        return search_get_pb2.SearchReply(took=0.8, results=[result])

    def BatchObjects(self, request, context):
        self.batch_sizes.append(len(request.objects))
        return batch_pb2.BatchObjectsReply(took=0.01, errors=[])

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []


@pytest.fixture
def servers():
    rest = WireServer(
        [
            On("GET", r"/v1/meta", lambda r: Reply.json(META)),
            On("POST", r"/v1/objects", _created),
        ]
    )
    with rest, GrpcServer((weaviate_pb2_grpc.add_WeaviateServicer_to_server, Weaviate())) as rpc:
        map_host(rest, "weaviate")
        map_host(rpc.host_port, "weaviate")
        client = weaviate.connect_to_custom(
            http_host="127.0.0.1",
            http_port=rest.port,
            http_secure=False,
            grpc_host="127.0.0.1",
            grpc_port=rpc.port,
            grpc_secure=False,
            skip_init_checks=True,
        )
        try:
            yield client
        finally:
            client.close()


@pytest.mark.provider("weaviate")
def test_rest_insert_priced_per_operation(servers, spans):
    with lo.customer("acme"):
        created = servers.collections.use("Docs").data.insert({"title": "a"}, vector=[0.1, 0.2, 0.3])
    assert str(created)
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "weaviate"
    assert attrs["llmobserve.operation"] == "insert"
    assert attrs["llmobserve.usage.operations"] == 1
    assert attrs["llmobserve.customer.id"] == "acme"
    # 1 operation x USD 1 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("weaviate")
def test_grpc_search_priced_per_operation(servers, spans):
    with lo.section("tool:retrieve"):
        found = servers.collections.use("Docs").query.near_vector([0.1, 0.2, 0.3], limit=1)
    assert str(found.objects[0].uuid) == OBJECT_ID
    attrs = spans.one_call()
    assert attrs["rpc.system"] == "grpc"
    assert attrs["rpc.service"] == "weaviate.v1.Weaviate"
    assert attrs["rpc.method"] == "Search"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.section.path"] == "tool:retrieve"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("weaviate")
def test_grpc_error_marks_span(servers, spans):
    with pytest.raises(Exception, match="Missing"):
        servers.collections.use("Missing").query.near_vector([0.1, 0.2, 0.3], limit=1)
    attrs = spans.one_call()
    assert attrs["error.type"] == "NOT_FOUND"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("weaviate")
def test_grpc_batch_insert_is_one_operation(servers, spans):
    result = servers.collections.use("Docs").data.insert_many(
        [{"title": "a"}, {"title": "b"}, {"title": "c"}]
    )
    assert not result.has_errors and len(result.uuids) == 3
    attrs = spans.one_call()
    assert attrs["rpc.method"] == "BatchObjects"
    assert attrs["llmobserve.operation"] == "insert"
    # one batch call = 1 operation x USD 1 / 1,000,000 (the reply does not count the objects)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
