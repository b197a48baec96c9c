"""Qdrant through the real `qdrant-client`: REST (httpx) and gRPC (grpcio, `prefer_grpc=True`).

REST answers follow https://api.qdrant.tech/api-reference (`{"result", "status", "time"}`); the
gRPC server is a real grpcio server built from the stubs qdrant-client ships (`qdrant_client.grpc`).

Price: Qdrant has no per-call price (Qdrant Cloud bills cluster hours, https://qdrant.tech/pricing/),
so calls are priced per operation at the documented default of USD 1 per million operations
(`pricing/data/qdrant.toml`), overridable with LLMOBSERVE_PRICING_FILE.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from qdrant_client import AsyncQdrantClient, QdrantClient, models
from qdrant_client.grpc import points_pb2, points_service_pb2_grpc, qdrant_common_pb2
from stubs.grpc_server import GrpcServer
from wire import On, Reply, WireServer, map_host

import llmobserve_otel as lo

DEFAULT_PER_OPERATION = 1.00 / 1_000_000  # USD 1 per million operations

QUERY_REPLY = {
    "result": {"points": [{"id": 7, "version": 3, "score": 0.91, "payload": {"title": "a"}}]},
    "status": "ok",
    "time": 0.0012,
}
UPSERT_REPLY = {"result": {"operation_id": 12, "status": "completed"}, "status": "ok", "time": 0.002}
BATCH_REPLY = {
    "result": [{"points": [{"id": 1, "version": 0, "score": 0.5}]}, {"points": []}, {"points": []}],
    "status": "ok",
    "time": 0.003,
}


@pytest.fixture
def rest_server():
    with WireServer(
        [
            On("POST", r"/collections/docs/points/query", lambda r: Reply.json(QUERY_REPLY)),
            On("POST", r"/collections/docs/points/query/batch", lambda r: Reply.json(BATCH_REPLY)),
            On("PUT", r"/collections/docs/points", lambda r: Reply.json(UPSERT_REPLY)),
            On(
                "POST",
                r"/collections/odd/points/query",
                lambda r: Reply.json({"status": "ok", "time": 0.001}),
            ),
            On(
                "POST",
                r"/collections/missing/points/query",
                lambda r: Reply.json(
                    {"status": {"error": "Not found: Collection `missing` doesn't exist!"}}, 404
                ),
            ),
        ]
    ) as server:
        map_host(server, "qdrant")
        yield server


def _rest_client(server: WireServer) -> QdrantClient:
    return QdrantClient(url=server.url, api_key=None, check_compatibility=False, timeout=5)


@pytest.mark.provider("qdrant")
def test_rest_query_priced_per_operation(rest_server, spans):
    client = _rest_client(rest_server)
    with lo.customer("acme"):
        result = client.query_points("docs", query=[0.1, 0.2, 0.3], limit=1)
    assert result.points[0].id == 7
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "qdrant"
    assert attrs["llmobserve.operation"] == "query"
    assert attrs["llmobserve.usage.operations"] == 1
    assert attrs["llmobserve.customer.id"] == "acme"
    # 1 operation x USD 1 / 1,000,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(1 * DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("qdrant")
def test_rest_upsert_and_batch(rest_server, spans):
    client = _rest_client(rest_server)
    client.upsert("docs", points=[models.PointStruct(id=1, vector=[0.1, 0.2, 0.3], payload={"t": "x"})])
    client.query_batch_points(
        "docs", requests=[models.QueryRequest(query=[0.1, 0.2, 0.3], limit=1) for _ in range(3)]
    )
    upsert, batch = (dict(s.attributes) for s in spans.provider_calls())
    assert upsert["llmobserve.operation"] == "upsert"
    assert upsert["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
    # a batch of 3 queries is 3 operations
    assert batch["llmobserve.usage.operations"] == 3
    assert batch["llmobserve.cost.usd"] == pytest.approx(3 * DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("qdrant")
def test_rest_error_not_billed(rest_server, spans):
    client = _rest_client(rest_server)
    with pytest.raises(Exception, match="404"):
        client.query_points("missing", query=[0.1, 0.2, 0.3], limit=1)
    attrs = spans.one_call()
    assert attrs["http.response.status_code"] == 404
    assert "llmobserve.cost.usd" not in attrs
    assert "llmobserve.usage.operations" not in attrs


@pytest.mark.provider("qdrant")
def test_rest_answer_without_result_is_visible(rest_server, spans):
    client = _rest_client(rest_server)
    with pytest.raises(AssertionError, match="Search returned None"):  # qdrant-client's own check
        client.query_points("odd", query=[0.1, 0.2, 0.3], limit=1)
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "no usage in response"
    assert "llmobserve.cost.usd" not in attrs


@pytest.mark.provider("qdrant")
def test_user_rate_overrides_default(rest_server, spans, user_prices):
    """A self-hosted cluster's own cost per query, from LLMOBSERVE_PRICING_FILE."""
    user_prices(
        'provider = "qdrant"\n[[prices]]\noperation = "query"\nsource = "our cluster bill / queries served"\n'
        'per = 1000\nrates = { operations = "0.25" }\n'
    )
    _rest_client(rest_server).query_points("docs", query=[0.1, 0.2, 0.3], limit=1)
    # USD 0.25 per 1,000 queries x 1 query
    assert spans.one_call()["llmobserve.cost.usd"] == pytest.approx(0.25 / 1000, abs=1e-15)


class Points(points_service_pb2_grpc.PointsServicer):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def Query(self, request, context):
        self.seen.append(request.collection_name)
        if request.collection_name == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, "Not found: Collection `missing` doesn't exist!")
        point = points_pb2.ScoredPoint(id=qdrant_common_pb2.PointId(num=7), score=0.91, version=3)
        return points_pb2.QueryResponse(result=[point], time=0.0012)

    def QueryBatch(self, request, context):
        batch = [points_pb2.BatchResult(result=[]) for _ in request.query_points]
        return points_pb2.QueryBatchResponse(result=batch, time=0.003)

    def Upsert(self, request, context):
        result = points_pb2.UpdateResult(operation_id=12, status=points_pb2.UpdateStatus.Completed)
        return points_pb2.PointsOperationResponse(result=result, time=0.002)


@pytest.fixture
def grpc_server():
    servicer = Points()
    with GrpcServer((points_service_pb2_grpc.add_PointsServicer_to_server, servicer)) as server:
        map_host(server.host_port, "qdrant")
        server.servicer = servicer
        yield server


def _grpc_client(server: GrpcServer, cls: type = QdrantClient):
    return cls(
        host="127.0.0.1",
        port=1,  # REST is not used with prefer_grpc
        grpc_port=server.port,
        prefer_grpc=True,
        https=False,
        check_compatibility=False,
        timeout=5,
    )


@pytest.mark.provider("qdrant")
def test_grpc_query_and_upsert(grpc_server, spans):
    client = _grpc_client(grpc_server)
    with lo.customer("acme"), lo.section("tool:retrieve"):
        result = client.query_points("docs", query=[0.1, 0.2, 0.3], limit=1)
        client.upsert("docs", points=[models.PointStruct(id=1, vector=[0.1, 0.2, 0.3])])
        client.query_batch_points(
            "docs", requests=[models.QueryRequest(query=[0.1, 0.2, 0.3], limit=1) for _ in range(2)]
        )
    assert result.points[0].id == 7
    query, upsert, batch = (dict(s.attributes) for s in spans.provider_calls())
    assert query["rpc.system"] == "grpc"
    assert query["rpc.service"] == "qdrant.Points"
    assert query["rpc.method"] == "Query"
    assert query["server.port"] == grpc_server.port
    assert query["llmobserve.operation"] == "query"
    assert query["llmobserve.customer.id"] == "acme"
    assert query["llmobserve.section.path"] == "tool:retrieve"
    assert query["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
    assert upsert["llmobserve.operation"] == "upsert"
    assert upsert["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
    # 2 queries in one batch call: 2 x USD 1 / 1,000,000
    assert batch["llmobserve.usage.operations"] == 2
    assert batch["llmobserve.cost.usd"] == pytest.approx(2 * DEFAULT_PER_OPERATION, abs=1e-15)


@pytest.mark.provider("qdrant")
def test_grpc_error_status(grpc_server, spans):
    client = _grpc_client(grpc_server)
    with pytest.raises(grpc.RpcError) as raised:
        client.query_points("missing", query=[0.1, 0.2, 0.3], limit=1)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    attrs = spans.one_call()
    assert attrs["error.type"] == "NOT_FOUND"
    assert attrs["rpc.grpc.status_code"] == 5
    assert "llmobserve.cost.usd" not in attrs
    (span,) = spans.provider_calls()
    assert span.status.status_code.name == "ERROR"


@pytest.mark.provider("qdrant")
def test_grpc_async_client(grpc_server, spans):
    async def run() -> None:
        client = _grpc_client(grpc_server, AsyncQdrantClient)
        result = await client.query_points("docs", query=[0.1, 0.2, 0.3], limit=1)
        assert result.points[0].id == 7
        await client.close()

    asyncio.run(run())
    attrs = spans.one_call()
    assert attrs["rpc.method"] == "Query"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(DEFAULT_PER_OPERATION, abs=1e-15)
