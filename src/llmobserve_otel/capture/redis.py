"""Usage capture for redis-py: one CLIENT span per billed command (vector searches and writes).

Wraps `Redis.execute_command` (sync and asyncio) and `Pipeline.execute` (sync and asyncio). For a
server the provider registry claims (looked up from the connection pool's host and port), the
provider's `match_command` picks the billed commands; every other command runs with nothing added
but that lookup. Commands and replies pass through unchanged.
"""

from __future__ import annotations

import importlib
from typing import Any

from opentelemetry import context
from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.capture._patch import is_outermost, unwrap_outermost, wrap_outermost
from llmobserve_otel.capture._rpc import DB_NAMESPACE, DB_OPERATION_NAME, DB_SYSTEM, RpcCall
from llmobserve_otel.providers import Registry


def _name(command: Any) -> str:
    return (command.decode(errors="replace") if isinstance(command, bytes) else str(command)).upper()


class RedisCapture:
    """Instrument/uninstrument redis-py (idempotent)."""

    def __init__(self) -> None:
        self._registry: Registry | None = None
        self._config: CaptureConfig | None = None
        self._wrapped: list[tuple[Any, str, Any]] = []

    @property
    def instrumented(self) -> bool:
        return bool(self._wrapped)

    def _targets(self) -> list[tuple[Any, str, Any]]:
        targets = []
        for module_name, sync in (("redis.client", True), ("redis.asyncio.client", False)):
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                continue
            targets.append((module.Redis, "execute_command", self._command if sync else self._acommand))
            targets.append((module.Pipeline, "execute", self._pipeline if sync else self._apipeline))
        return targets

    def instrument(self, registry: Registry, config: CaptureConfig) -> bool:
        try:
            importlib.import_module("redis")
        except ImportError:
            return False
        self._registry, self._config = registry, config
        for cls, name, wrapper in self._targets():
            if not is_outermost(cls, name, wrapper):
                wrap_outermost(cls, name, wrapper)
                self._wrapped.append((cls, name, wrapper))
        return True

    def uninstrument(self) -> None:
        for cls, name, wrapper in self._wrapped:
            unwrap_outermost(cls, name, wrapper)
        self._wrapped = []
        self._config = None

    def _begin(self, client: Any, command: tuple[Any, ...]) -> RpcCall | None:
        """The span of one command, or None when it is not a billed call to a provider's server."""
        config, registry = self._config, self._registry
        if (
            config is None
            or registry is None
            or not command
            or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY)
        ):
            return None
        kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None) or {}
        host, port = kwargs.get("host"), kwargs.get("port")
        if not isinstance(host, str):
            return None
        provider = registry.lookup(host, port if isinstance(port, int) else None)
        if provider is None or not hasattr(provider, "match_command"):
            return None
        name = _name(command[0])
        route = provider.match_command(name, command[1:])
        if route is None:
            return None
        attributes: dict[str, Any] = {
            DB_SYSTEM: "redis",
            DB_OPERATION_NAME: name,
            DB_NAMESPACE: str(kwargs.get("db", 0)),
            sc.SERVER_ADDRESS: host,
        }
        if isinstance(port, int):
            attributes[sc.SERVER_PORT] = port
        return RpcCall(config, provider, route, attributes, detail=command)

    def _safe_begin(self, client: Any, command: tuple[Any, ...]) -> RpcCall | None:
        try:
            return self._begin(client, command)
        except Exception as exc:
            report_internal_error("capture.redis.begin", exc)
            return None

    @staticmethod
    def _end(call: RpcCall, reply: Any) -> None:
        if isinstance(reply, Exception):  # a pipeline reports a failed command in its place
            call.finish(error=reply)
            return
        try:
            usage = call.provider.parse_command(call.route, call.detail[1:], reply)
        except Exception as exc:
            call.set(sc.USAGE_STATUS, f"reply not parsed: {type(exc).__name__}")
            call.finish(None)
            report_internal_error("capture.redis.parse", exc)
            return
        call.finish(usage)

    def _command(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        call = self._safe_begin(instance, args)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            reply = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        self._end(call, reply)
        return reply

    async def _acommand(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        call = self._safe_begin(instance, args)
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            reply = await wrapped(*args, **kwargs)
        except BaseException as exc:
            call.finish(error=exc)
            raise
        self._end(call, reply)
        return reply

    def _pipeline_calls(self, instance: Any) -> list[tuple[int, RpcCall]]:
        calls = []
        for index, entry in enumerate(getattr(instance, "command_stack", None) or ()):
            command = getattr(entry, "args", None) or (entry[0] if isinstance(entry, tuple) else ())
            call = self._safe_begin(instance, tuple(command))
            if call is not None:
                calls.append((index, call))
        return calls

    def _pipeline_done(self, calls: list[tuple[int, RpcCall]], replies: Any) -> None:
        for index, call in calls:
            if isinstance(replies, list) and index < len(replies):
                self._end(call, replies[index])
            else:
                call.finish(error="no reply")

    def _pipeline(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        calls = self._pipeline_calls(instance) if self._config is not None else []
        if not calls:
            return wrapped(*args, **kwargs)
        try:
            replies = wrapped(*args, **kwargs)
        except BaseException as exc:
            for _, call in calls:
                call.finish(error=exc)
            raise
        self._pipeline_done(calls, replies)
        return replies

    async def _apipeline(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        calls = self._pipeline_calls(instance) if self._config is not None else []
        if not calls:
            return await wrapped(*args, **kwargs)
        try:
            replies = await wrapped(*args, **kwargs)
        except BaseException as exc:
            for _, call in calls:
                call.finish(error=exc)
            raise
        self._pipeline_done(calls, replies)
        return replies


CAPTURE = RedisCapture()
