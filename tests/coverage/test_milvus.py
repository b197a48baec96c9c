"""Milvus / Zilliz Cloud through the real `pymilvus` MilvusClient over gRPC.

The server is a real grpcio server built from the stubs pymilvus ships
(`pymilvus.grpc_gen.milvus_pb2_grpc`), answering with the documented messages. Zilliz Cloud
serverless reports each call's vCU consumption in `status.extra_info["report_value"]` (pymilvus
surfaces it as the result's `cost`).

Price (https://docs.zilliz.com/docs/serverless-cluster-cost, read 2026-11-26): USD 4 per million
vCUs. Self-hosted Milvus (no report_value): nominal USD 1 per million operations.
"""

from __future__ import annotations

import grpc
import pytest
from pymilvus import MilvusClient
from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2
from stubs.grpc_server import GrpcServer
from wire import map_host

import llmobserve_otel as lo

M = 1_000_000
VCU_PRICE = 4.00 / M
DEFAULT_PER_OPERATION = 1.00 / M


def _status(report_value: str | None) -> common_pb2.Status:
    extra = {"report_value": report_value} if report_value is not None else {}
    return common_pb2.Status(code=0, error_code=common_pb2.Success, extra_info=extra)


class Milvus(milvus_pb2_grpc.MilvusServiceServicer):
    """Answers as Zilliz Cloud serverless when `report_value` is set, else as a self-hosted Milvus."""

    def __init__(self) -> None:
        self.report_value: str | None = None
        self.fail = False

    def Connect(self, request, context):
        return milvus_pb2.ConnectResponse(
            status=_status(None), server_info=common_pb2.ServerInfo(build_tags="v2.5.0"), identifier=1
        )

    def DescribeCollection(self, request, context):
        schema = schema_pb2.CollectionSchema(
            name=request.collection_name,
            fields=[
                schema_pb2.FieldSchema(
                    fieldID=100, name="id", is_primary_key=True, data_type=schema_pb2.DataType.Int64
                ),
                schema_pb2.FieldSchema(
                    fieldID=101,
                    name="vector",
                    data_type=schema_pb2.DataType.FloatVector,
                    type_params=[common_pb2.KeyValuePair(key="dim", value="3")],
                ),
            ],
        )
        return milvus_pb2.DescribeCollectionResponse(
            status=_status(None), schema=schema, collectionID=1, collection_name=request.collection_name
        )

    def Search(self, request, context):
        if self.fail:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "access denied to collection docs")
        results = schema_pb2.SearchResultData(
            num_queries=1,
            top_k=1,
            scores=[0.91],
            ids=schema_pb2.IDs(int_id=schema_pb2.LongArray(data=[7])),
            topks=[1],
            primary_field_name="id",
        )
        return milvus_pb2.SearchResults(
            status=_status(self.report_value), results=results, collection_name=request.collection_name
        )

    def Insert(self, request, context):
        return milvus_pb2.MutationResult(
            status=_status(self.report_value),
            IDs=schema_pb2.IDs(int_id=schema_pb2.LongArray(data=[1, 2])),
            succ_index=[0, 1],
            insert_cnt=2,
        )


@pytest.fixture
def server():
    servicer = Milvus()
    with GrpcServer((milvus_pb2_grpc.add_MilvusServiceServicer_to_server, servicer)) as running:
        map_host(running.host_port, "milvus")
        running.servicer = servicer
        yield running


def _client(server: GrpcServer) -> MilvusClient:
    return MilvusClient(uri=f"http://{server.host_port}", token="root:Milvus", timeout=5)


@pytest.mark.provider("milvus")
def test_zilliz_serverless_search_priced_in_vcu(server, spans):
    server.servicer.report_value = "6"
    client = _client(server)
    spans_before = len(spans.provider_calls())  # Connect is not a billed call
    with lo.customer("acme"):
        hits = client.search("docs", data=[[0.1, 0.2, 0.3]], limit=1)
    assert hits[0][0]["id"] == 7
    assert spans_before == 0
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "milvus"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["rpc.method"] == "Search"
    assert attrs["llmobserve.usage.vcu"] == 6
    assert attrs["llmobserve.customer.id"] == "acme"
    # 6 vCU x USD 4 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(6 * VCU_PRICE, abs=1e-15)


@pytest.mark.provider("milvus")
def test_zilliz_serverless_insert_priced_in_vcu(server, spans):
    server.servicer.report_value = "2"
    result = _client(server).insert(
        "docs", data=[{"id": 1, "vector": [0.1, 0.2, 0.3]}, {"id": 2, "vector": [0.3, 0.2, 0.1]}]
    )
    assert result["insert_count"] == 2
    attrs = spans.one_call()
    assert attrs["llmobserve.operation"] == "insert"
    assert attrs["llmobserve.usage.vcu"] == 2
    # 2 vCU x USD 4 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2 * VCU_PRICE, abs=1e-15)


@pytest.mark.provider("milvus")
def test_self_hosted_search_priced_per_operation(server, spans):
    _client(server).search("docs", data=[[0.1, 0.2, 0.3]], limit=1)
    attrs = spans.one_call()
    assert "llmobserve.usage.vcu" not in attrs
    assert attrs["llmobserve.usage.operations"] == 1
    # 1 operation x USD 1 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("milvus")
def test_grpc_error_marks_span(server, spans):
    server.servicer.fail = True
    with pytest.raises(Exception, match="access denied"):
        _client(server).search("docs", data=[[0.1, 0.2, 0.3]], limit=1)
    attrs = spans.one_call()
    assert attrs["error.type"] == "PERMISSION_DENIED"
    assert attrs["rpc.grpc.status_code"] == 7
    assert "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("milvus")
def test_unreadable_report_value_is_visible(server, spans):
    server.servicer.report_value = "-3"  # not a consumption: read as missing, never as a refund
    hits = _client(server).search("docs", data=[[0.1, 0.2, 0.3]], limit=1)
    assert hits[0][0]["id"] == 7  # the app's result is untouched
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("milvus")
def test_async_client_over_grpc_aio(server, spans):
    import asyncio

    from pymilvus import AsyncMilvusClient

    server.servicer.report_value = "4"

    async def run() -> None:
        client = AsyncMilvusClient(uri=f"http://{server.host_port}", token="root:Milvus", timeout=5)
        try:
            hits = await client.search("docs", data=[[0.1, 0.2, 0.3]], limit=1)
            assert hits[0][0]["id"] == 7
        finally:
            await client.close()

    asyncio.run(run())
    attrs = spans.one_call()
    assert attrs["rpc.method"] == "Search"
    assert attrs["llmobserve.usage.vcu"] == 4
    # 4 vCU x USD 4 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(4 * VCU_PRICE, abs=1e-15)
