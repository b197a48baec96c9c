"""A wire-level MongoDB stub: a real TCP server on 127.0.0.1 speaking the MongoDB wire protocol.

A real MongoDB server (let alone Atlas Vector Search) cannot run here, so this answers pymongo's
own bytes: the OP_QUERY handshake (`hello` / `isMaster`, answered with OP_REPLY) and OP_MSG
commands (body section plus document sequences, answered with OP_MSG), encoded with the `bson`
package that ships with pymongo. Replies are the documented server shapes
(https://www.mongodb.com/docs/manual/reference/command/); `handler(command) -> reply | None`
answers the commands a test cares about, everything else gets `{"ok": 1}`.
"""

from __future__ import annotations

import datetime
import socketserver
import struct
import threading
from collections.abc import Callable
from typing import Any

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode

HELLO = {
    "ismaster": True,
    "isWritablePrimary": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48_000_000,
    "maxWriteBatchSize": 100_000,
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
    "minWireVersion": 0,
    "maxWireVersion": 21,  # MongoDB 7.0
    "readOnly": False,
    "ok": 1.0,
}


def _cstring(data: bytes, offset: int) -> tuple[str, int]:
    end = data.index(b"\x00", offset)
    return data[offset:end].decode(), end + 1


def parse_op_msg(body: bytes) -> dict[str, Any]:
    """The command of an OP_MSG: the kind-0 document with each kind-1 sequence added as a list."""
    (flags,) = struct.unpack_from("<I", body, 0)
    end = len(body) - (4 if flags & 1 else 0)  # checksumPresent
    offset, command = 4, {}
    sequences: dict[str, list[Any]] = {}
    while offset < end:
        kind = body[offset]
        offset += 1
        if kind == 0:
            (size,) = struct.unpack_from("<i", body, offset)
            command = bson.decode(body[offset : offset + size])
            offset += size
        else:
            (size,) = struct.unpack_from("<i", body, offset)
            section_end = offset + size
            name, cursor = _cstring(body, offset + 4)
            docs = []
            while cursor < section_end:
                (doc_size,) = struct.unpack_from("<i", body, cursor)
                docs.append(bson.decode(body[cursor : cursor + doc_size]))
                cursor += doc_size
            sequences[name] = docs
            offset = section_end
    command.update(sequences)
    return command


class MongoStub:
    def __init__(self, handler: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None) -> None:
        self.handler = handler or (lambda command: None)
        self.commands: list[dict[str, Any]] = []
        stub = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                while True:
                    header = self._read(HEADER.size)
                    if header is None:
                        return
                    length, request_id, _, op_code = HEADER.unpack(header)
                    body = self._read(length - HEADER.size)
                    if body is None:
                        return
                    if op_code == OP_QUERY:
                        _, offset = _cstring(body, 4)
                        (size,) = struct.unpack_from("<i", body, offset + 8)
                        command = bson.decode(body[offset + 8 : offset + 8 + size])
                        reply = stub._answer(command)
                        payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(reply)
                        self._send(request_id, OP_REPLY, payload)
                    elif op_code == OP_MSG:
                        reply = stub._answer(parse_op_msg(body))
                        self._send(request_id, OP_MSG, struct.pack("<I", 0) + b"\x00" + bson.encode(reply))
                    else:
                        return

            def _read(self, size: int) -> bytes | None:
                data = b""
                while len(data) < size:
                    chunk = self.request.recv(size - len(data))
                    if not chunk:
                        return None
                    data += chunk
                return data

            def _send(self, response_to: int, op_code: int, payload: bytes) -> None:
                self.request.sendall(
                    HEADER.pack(HEADER.size + len(payload), 0, response_to, op_code) + payload
                )

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, command: dict[str, Any]) -> dict[str, Any]:
        name = next(iter(command), "")
        if name.lower() in ("hello", "ismaster"):
            return {**HELLO, "localTime": datetime.datetime.now(datetime.timezone.utc)}
        self.commands.append(command)
        return self.handler(command) or {"ok": 1.0}

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> MongoStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
