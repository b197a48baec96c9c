"""Usage capture for MongoDB through pymongo's command monitoring (`pymongo.monitoring`).

A global `CommandListener` is registered at instrument time (pymongo gives it to every MongoClient
created afterwards). For a server the provider registry claims, each command the provider bills
(`match_command`: `$vectorSearch` aggregations, writes) becomes one CLIENT span. Monitoring
reports a command after it ran, so the span is built when the reply (or failure) is reported,
with the start time and parent context recorded when the command started. Commands and replies are
only read, never changed; nothing is sent to the server.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.guard import internal_errors, report_internal_error
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.capture._rpc import (
    DB_COLLECTION_NAME,
    DB_NAMESPACE,
    DB_OPERATION_NAME,
    DB_SYSTEM,
    RpcCall,
)
from llmobserve_otel.providers import Registry

_MAX_PENDING = 10_000  # started commands whose outcome never came (a dropped connection) must not pile up


class _Pending:
    __slots__ = ("attributes", "command", "parent", "provider", "route", "start_ns")

    def __init__(
        self, provider: Any, route: Any, command: Any, attributes: dict[str, Any], parent: Any
    ) -> None:
        self.provider = provider
        self.route = route
        self.command = command
        self.attributes = attributes
        self.parent = parent
        self.start_ns = time.time_ns()


def _listener_type() -> type:
    from pymongo import monitoring

    class Listener(monitoring.CommandListener):
        def __init__(self, capture: PymongoCapture) -> None:
            self._capture = capture

        def started(self, event: Any) -> None:
            with internal_errors("capture.pymongo.started"):
                self._capture.started(event)

        def succeeded(self, event: Any) -> None:
            with internal_errors("capture.pymongo.succeeded"):
                self._capture.ended(event, reply=event.reply)

        def failed(self, event: Any) -> None:
            with internal_errors("capture.pymongo.failed"):
                self._capture.ended(event, failure=event.failure)

    return Listener


class PymongoCapture:
    """One global command listener; `uninstrument` makes it inert (pymongo cannot unregister it)."""

    def __init__(self) -> None:
        self._registry: Registry | None = None
        self._config: CaptureConfig | None = None
        self._listener: Any = None
        self._pending: dict[tuple[int, Any], _Pending] = {}
        self._lock = threading.Lock()

    @property
    def instrumented(self) -> bool:
        return self._config is not None

    def instrument(self, registry: Registry, config: CaptureConfig) -> bool:
        try:
            from pymongo import monitoring
        except ImportError:
            return False
        self._registry, self._config = registry, config
        if self._listener is None:
            self._listener = _listener_type()(self)
            monitoring.register(self._listener)
        return True

    def uninstrument(self) -> None:
        self._config = None
        with self._lock:
            self._pending.clear()

    def started(self, event: Any) -> None:
        if self._config is None or self._registry is None or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY):
            return
        address = event.connection_id
        provider = self._registry.lookup(str(address[0]), address[1])
        if provider is None or not hasattr(provider, "match_command"):
            return
        route = provider.match_command(event.command_name, event.command)
        if route is None:
            return
        attributes: dict[str, Any] = {
            DB_SYSTEM: "mongodb",
            DB_OPERATION_NAME: event.command_name,
            DB_NAMESPACE: event.database_name,
            sc.SERVER_ADDRESS: str(address[0]),
            sc.SERVER_PORT: address[1],
        }
        collection = event.command.get(event.command_name)
        if isinstance(collection, str):
            attributes[DB_COLLECTION_NAME] = collection
        pending = _Pending(provider, route, event.command, attributes, context.get_current())
        with self._lock:
            if len(self._pending) >= _MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            self._pending[(event.request_id, address)] = pending

    def ended(self, event: Any, *, reply: Any = None, failure: Any = None) -> None:
        with self._lock:
            pending = self._pending.pop((event.request_id, event.connection_id), None)
        config = self._config
        if pending is None or config is None:
            return
        call = RpcCall(
            config,
            pending.provider,
            pending.route,
            pending.attributes,
            start_ns=pending.start_ns,
            parent=pending.parent,
        )
        end_ns = pending.start_ns + int(event.duration_micros) * 1000
        if failure is not None:
            # A server error is its reply document (codeName); a network error names its type.
            found = failure if isinstance(failure, dict) else {}
            code = found.get("codeName") or found.get("errtype") or found.get("code") or "OperationFailure"
            call.finish(error=str(code), end_ns=end_ns)
            return
        try:
            usage = pending.provider.parse_command(pending.route, pending.command, reply)
        except Exception as exc:
            call.set(sc.USAGE_STATUS, f"reply not parsed: {type(exc).__name__}")
            call.finish(None, end_ns=end_ns)
            report_internal_error("capture.pymongo.parse", exc)
            return
        call.finish(usage, end_ns=end_ns)


CAPTURE = PymongoCapture()
