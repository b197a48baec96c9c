"""A real grpcio server on 127.0.0.1 (random port) serving the servicers the tests pass in.

The servicers are subclasses of the SDKs' own generated `*Servicer` classes (qdrant-client's
`qdrant_client.grpc`, pymilvus' `milvus_pb2_grpc`, weaviate's `weaviate.proto.v1`), answering with
their documented protobuf messages; every request is recorded as (method name, request message).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc


class GrpcServer:
    def __init__(self, *services: tuple[Callable[[Any, grpc.Server], None], Any]) -> None:
        self._server = grpc.server(ThreadPoolExecutor(max_workers=4))
        for add, servicer in services:
            add(servicer, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> GrpcServer:
        self._server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stop(grace=None)


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> None:
    """End the call with an error status, as a real server refusing it does."""
    context.abort(code, message)
