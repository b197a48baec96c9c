"""The collector's HTTP surface (Starlette): OTLP receiver, health, and the report's query API.

```
POST /v1/traces     OTLP/HTTP traces (protobuf or JSON, gzip or not) -> priced -> store
POST /v1/metrics    accepted and discarded (default SDK setups export them; no error noise)
POST /v1/logs       accepted and discarded
GET  /health        200 while the store takes inserts, 503 while it fails
GET  /api/v1/report the report's aggregates (`llmobserve-otel report` asks here first)
GET  /             the cost page: the dashboards' panels (`_page.py`)
```

Handlers stay thin over the pure pieces: `_otlp` (wire format), `_pipeline` (rows), `_writer`
(queue). Answers follow the OTLP/HTTP spec: 200 with `partial_success` when spans were rejected,
400/413/415 for a request refused as a whole (nothing of it is stored), 503 with `Retry-After`
when the queue is full or the store is failing, so the exporter retries.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from llmobserve_otel.collector._dedupe import SeenWindow
from llmobserve_otel.collector._otlp import (
    JSON,
    PROTOBUF,
    OtlpError,
    PayloadTooLarge,
    decode_traces,
    decompress,
    encode_message,
    encode_status,
    media_type,
    traces_response,
)
from llmobserve_otel.collector._page import page_routes
from llmobserve_otel.collector._pipeline import Pricer, request_rows
from llmobserve_otel.collector._span_rows import SpanRows, request_span_rows
from llmobserve_otel.collector._validate import InvalidAttributeError
from llmobserve_otel.collector._writer import Writer
from llmobserve_otel.store import (
    DEFAULT_URL,
    ReportQuery,
    insert_spans,
    open_store,
    parse_url,
    report_rows,
)
from llmobserve_otel.store._queries import recent_span_keys
from llmobserve_otel.store._span_rows import insert_span_rows

__all__ = ("Collector", "CollectorConfig", "collector_pricer")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectorConfig:
    """How the collector runs (the CLI fills it from flags and environment)."""

    clickhouse_url: str = DEFAULT_URL
    """Store URL: `chdb://PATH` or `http(s)://user:pass@host:8123/db`."""
    pricing: bool = True
    """Price spans that carry usage but no cost (`llmobserve.cost.source=collector`)."""
    token: str | None = None
    """Bearer token required on /v1/* and /api/* when set."""
    batch_size: int = 50_000
    """Spans per insert."""
    flush_interval: float = 1.0
    """Seconds a span may wait for its batch to fill."""
    max_queue: int = 200_000
    """Spans held in memory before answering 503."""
    insert_threads: int = 2
    """Batches inserted side by side (each on its own store handle)."""
    max_body_bytes: int = 20 * 1024 * 1024
    """Largest request body, compressed and decompressed."""
    dedupe_window: int = 500_000
    """Recently accepted span keys remembered to drop retried copies."""
    sql_decode: bool = True
    """Embedded store: let ClickHouse decode protobuf spans (`_span_rows`), not Python."""
    spool_dir: str | None = None
    """Where accepted spans go when the store is down at shutdown, to be stored at the next start
    (default: beside a chDB store, `<store>.spool`; for a server, `./.llmobserve/spool`)."""

    def spool_path(self) -> str:
        if self.spool_dir:
            return self.spool_dir
        location = parse_url(self.clickhouse_url)
        return f"{location.path}.spool" if location.embedded else os.path.join(".llmobserve", "spool")


def collector_pricer() -> Pricer | None:
    """The pricing core bound to `source=collector`, or None when it cannot be imported."""
    try:
        from llmobserve_otel.pricing import cost_attributes
    except ImportError as exc:  # the collector still stores spans; they just keep their own cost
        _log.warning("llmobserve collector: pricing unavailable (%s); spans are stored unpriced", exc)
        return None
    from llmobserve_otel import semconv as sc

    def price(attributes: Mapping[str, Any], timestamp_ns: int) -> Mapping[str, Any]:
        return cost_attributes(attributes, source=sc.SOURCE_COLLECTOR, timestamp_ns=timestamp_ns or None)

    return price


class Collector:
    """The receiver, its queue and its store, wired together. `open()` before serving `app`."""

    def __init__(self, config: CollectorConfig, *, pricer: Pricer | None = None) -> None:
        self.config = config
        self.store_display = parse_url(config.clickhouse_url).display
        self.pricer = pricer if pricer is not None else (collector_pricer() if config.pricing else None)
        self.seen = SeenWindow(config.dedupe_window)
        self._insert_client: Any = None
        self._query_client: Any = None
        self._spare_clients: list[Any] = []  # store handles for insert threads beyond the first
        self._unclaimed: list[Any] = []  # insert handles no insert thread has taken yet
        self._claim_lock = threading.Lock()
        self._thread_client = threading.local()
        self.writer: Writer | None = None
        self._drained = True
        self._fallback_logged = False
        self._spans_per_byte = 0.0  # of the last accepted request, to refuse early when full
        self.app = Starlette(
            routes=[
                Route("/v1/traces", self.traces, methods=["POST"]),
                Route("/v1/metrics", self.discard, methods=["POST"]),
                Route("/v1/logs", self.discard, methods=["POST"]),
                Route("/health", self.health, methods=["GET"]),
                Route("/api/v1/report", self.report, methods=["GET"]),
                *page_routes(self),  # GET / and the dashboards' panels (_page.py)
            ],
            lifespan=self._lifespan,
        )

    @property
    def client(self) -> Any:
        """The store's read handle while open (queries, tests, embedding), else None."""
        return self._query_client

    # --- lifecycle ---

    def open(self) -> None:
        """Open the store (creating the schema), prime the duplicate window, start the writer.

        Raises StoreError with a one-line reason when the store cannot be used, ValueError (before
        opening anything) when the batching settings are inconsistent.
        """
        writer = Writer(
            self._insert,
            batch_size=self.config.batch_size,
            flush_interval=self.config.flush_interval,
            max_queue=self.config.max_queue,
            threads=self.config.insert_threads,
        )
        self._drained = True
        url = self.config.clickhouse_url
        self._insert_client = open_store(url, create=True, schema=True)
        try:
            # More handles, for queries and for each insert thread beyond the first: a chDB handle
            # serializes its calls, so the report must not wait behind an insert on the same
            # handle, nor one insert behind another.
            self._query_client = open_store(url, create=False, schema=False, check_lock=False)
            self._spare_clients = [
                open_store(url, create=False, schema=False, check_lock=False)
                for _ in range(self.config.insert_threads - 1)
            ]
        except Exception:
            self.close()
            raise
        try:
            self.seen.add_all(recent_span_keys(self._query_client, limit=self.config.dedupe_window // 2))
        except Exception as exc:  # a cold window only weakens retry protection
            _log.warning("llmobserve collector: could not prime the duplicate window: %s", exc)
        self._restore_spool()
        self._unclaimed = [*self._spare_clients, self._insert_client]
        self.writer = writer
        writer.start()

    @property
    def _sql_decode(self) -> bool:
        return self.config.sql_decode and parse_url(self.config.clickhouse_url).embedded

    def _own_client(self) -> Any:
        """This insert thread's own store handle (claimed at its first insert)."""
        client = getattr(self._thread_client, "client", None)
        if client is None:
            with self._claim_lock:
                client = self._thread_client.client = self._unclaimed.pop()
        return client

    def _insert(self, batch: Any) -> None:
        """The writer's insert: rows through clickhouse-connect, SpanRows through ClickHouse's decoder."""
        client = self._own_client()
        if not isinstance(batch, SpanRows):
            insert_spans(client, batch)
            return
        try:
            insert_span_rows(client, batch.data)
        except Exception as exc:
            # Something SQL does not render (nested values, a repeated key), or the store failed:
            # the exact path stores the batch, or raises for the writer to retry.
            rows = batch.rows()
            if not self._fallback_logged:
                self._fallback_logged = True
                _log.warning(
                    "llmobserve collector: a batch went the Python way (%s)", str(exc).split("\n")[0][:200]
                )
            insert_spans(client, rows)

    def close(self, timeout: float | None = 60.0) -> bool:
        """Stop taking spans, insert everything accepted, close the store; True when nothing was lost.

        Idempotent: later calls return the first call's verdict.
        """
        if self.writer is not None:
            self._drained = self.writer.stop(timeout)
            if not self._drained:
                self._drained = self._spool(self.writer.leftover())
            self.writer = None
        for client in (self._query_client, self._insert_client, *self._spare_clients):
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
        self._query_client = self._insert_client = None
        self._spare_clients = []
        return self._drained

    def _spool(self, chunks: list[Any]) -> bool:
        """Save what the store would not take to a spool file; True when saved."""
        rows: list[Any] = []
        for chunk in chunks:
            rows.extend(chunk.rows() if isinstance(chunk, SpanRows) else chunk)
        if not rows:
            return True
        directory = self.config.spool_path()
        path = os.path.join(directory, f"spans-{time.time_ns()}.jsonl")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(path + ".tmp", "w", encoding="utf-8") as spool:
                for row in rows:
                    spool.write(json.dumps(row, ensure_ascii=False) + "\n")
            os.replace(path + ".tmp", path)  # complete files only: a crash mid-write leaves .tmp
        except OSError as exc:
            _log.error(
                "llmobserve collector: %d accepted spans lost (store down, spool failed: %s)", len(rows), exc
            )
            return False
        _log.error(
            "llmobserve collector: store unavailable at shutdown; %d accepted spans saved to %s "
            "and stored at the next start",
            len(rows),
            path,
        )
        return True

    def _restore_spool(self) -> None:
        """Store the spans a previous run spooled; a file is removed only once stored."""
        directory = self.config.spool_path()
        if not os.path.isdir(directory):
            return
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".jsonl"):
                continue
            path = os.path.join(directory, name)
            try:
                with open(path, encoding="utf-8") as spool:
                    rows = [json.loads(line) for line in spool if line.strip()]
                insert_spans(self._insert_client, rows)
            except Exception as exc:  # keep the file for the next start; serve meanwhile
                _log.error("llmobserve collector: could not store spooled spans from %s: %s", path, exc)
                continue
            self.seen.add_all(bytes.fromhex(row[1]) + bytes.fromhex(row[2]) for row in rows)
            os.remove(path)
            _log.warning(
                "llmobserve collector: stored %d spans spooled by a previous run (%s)", len(rows), name
            )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # Shutdown (SIGTERM, SIGINT) reaches here after the server stopped taking requests and
        # finished the ones in flight: everything acknowledged is in the queue, so drain it now.
        yield
        await run_in_threadpool(self.close)

    # --- handlers ---

    def _authorized(self, request: Request) -> bool:
        if not self.config.token:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), self.config.token)

    async def _body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        # An oversized body is still read (and dropped) up to a few times the limit: a server that
        # answers while the client is still sending makes the client see a reset connection, not
        # the 413. Past that bound, the connection is cut.
        drain_limit = 4 * limit
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > drain_limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                chunks.clear()
                if size > drain_limit:
                    break
                continue
            chunks.append(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body over {limit} bytes")
        return decompress(b"".join(chunks), request.headers.get("content-encoding"), limit)

    @staticmethod
    def _error(media: str, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        return Response(encode_status(media, status, message), status, headers=headers, media_type=media)

    def _full(self, media: str, size: int) -> Response | None:
        """503 before decoding when the queue surely has no room for a body this size.

        Decoding a request only to refuse it at the queue doubles the work while the store catches
        up; the span count is estimated from the bytes a span took in the last accepted request.
        """
        writer = self.writer
        if writer is not None and writer.room < size * self._spans_per_byte:
            return self._queue_full(media)
        return None

    def _queue_full(self, media: str) -> Response:
        return self._error(media, 503, "collector queue full, retry later", {"Retry-After": "1"})

    def _unavailable(self, media: str) -> Response | None:
        writer = self.writer
        if writer is None:
            return self._error(media, 503, "collector is shutting down", {"Retry-After": "1"})
        if writer.failing is not None:
            return self._error(media, 503, f"store unavailable: {writer.failing}", {"Retry-After": "5"})
        return None

    async def traces(self, request: Request) -> Response:
        media = JSON
        try:
            media = media_type(request.headers.get("content-type"))
            # The body is read (bounded) before any refusal: answering while the client is still
            # sending makes it see a reset connection instead of our status.
            body = await self._body(request)
            if not self._authorized(request):
                return self._error(media, 401, "missing or wrong bearer token")
            refused = self._unavailable(media) or self._full(media, len(body))
            if refused is not None:
                return refused
            export = decode_traces(body, media)  # also validates what the fast path only frames
            fast = None
            if media == PROTOBUF and self._sql_decode:
                fast = request_span_rows(body, pricer=self.pricer, seen=self.seen)
            if fast is not None:
                chunk: Any = fast
                keys, rejected, error_message = fast.keys, 0, ""
            else:
                batch = request_rows(export, pricer=self.pricer, seen=self.seen)
                chunk, keys, rejected, error_message = (
                    batch.rows,
                    batch.keys,
                    batch.rejected,
                    batch.error_message,
                )
        except OtlpError as exc:
            return self._error(media, exc.status, str(exc))
        except InvalidAttributeError as exc:
            return self._error(media, 400, str(exc))
        except ClientDisconnect:
            return Response(status_code=400)
        if keys:
            writer = self.writer
            if writer is None or not writer.submit(chunk):
                return self._unavailable(media) or self._queue_full(media)
            # Remembered only once accepted: a refused request must be stored when retried.
            self.seen.add_all(keys)
            self._spans_per_byte = len(keys) / max(1, len(body))
        return Response(traces_response(media, rejected, error_message), 200, media_type=media)

    async def discard(self, request: Request) -> Response:
        """Metrics and logs: checked like traces, then dropped (this collector stores traces only)."""
        media = JSON
        try:
            media = media_type(request.headers.get("content-type"))
            await self._body(request)
            if not self._authorized(request):
                return self._error(media, 401, "missing or wrong bearer token")
        except OtlpError as exc:
            return self._error(media, exc.status, str(exc))
        except ClientDisconnect:
            return Response(status_code=400)
        empty = (
            ExportMetricsServiceResponse()
            if request.url.path.endswith("metrics")
            else ExportLogsServiceResponse()
        )
        return Response(encode_message(empty, media), 200, media_type=media)

    async def health(self, request: Request) -> Response:
        writer = self.writer
        body: dict[str, Any] = {"store": self.store_display}
        if writer is None:
            body["status"] = "stopped"
            return JSONResponse(body, 503)
        body.update(status="ok" if writer.failing is None else "store_unavailable", pending=writer.pending)
        body["inserted"] = writer.inserted
        if writer.failing is not None:
            body["error"] = writer.failing
        return JSONResponse(body, 200 if writer.failing is None else 503)

    async def report(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, 401)
        try:
            query = ReportQuery.from_params(request.query_params)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        if self._query_client is None:
            return JSONResponse({"error": "collector is shutting down"}, 503)
        try:
            rows = await run_in_threadpool(report_rows, self._query_client, query)
        except Exception as exc:  # the store failed: the caller may retry
            _log.warning("llmobserve collector: report query failed: %s", exc)
            return JSONResponse({"error": f"query failed: {exc}"}, 503)
        return JSONResponse({"rows": rows, "store": self.store_display})
