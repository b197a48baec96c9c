"""Usage capture for gRPC (grpcio): Qdrant, Milvus, Weaviate and other gRPC vector databases.

`grpc.intercept_channel` cannot be forced onto channels an SDK creates, so channel creation is
hooked (`grpc.insecure_channel` / `secure_channel` and their `grpc.aio` twins): a channel to a
target the provider registry claims, whose provider module has `match_grpc`, gets our client
interceptors; every other channel is returned untouched. Per call: suppression check, method ->
route (early exit for methods that are not billed), span, the call, usage from the decoded
response message (`parse_grpc`), span ended once. Messages pass through unchanged and nothing is
added to the call's metadata (no traceparent, no baggage to a provider).
"""

from __future__ import annotations

import importlib
from typing import Any

import wrapt
from opentelemetry import context
from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.capture._patch import unwrap_outermost, wrap_outermost
from llmobserve_otel.capture._rpc import (
    RPC_GRPC_STATUS_CODE,
    RPC_METHOD,
    RPC_SERVICE,
    RPC_SYSTEM,
    RpcCall,
    host_port,
)
from llmobserve_otel.providers import Registry, Usage


def _add(total: Usage | None, part: Usage | None) -> Usage | None:
    """Units of stream messages add up; the last message's other fields win."""
    if part is None:
        return total
    if total is None:
        return part
    for unit, amount in total.units.items():
        part.units[unit] = part.units.get(unit, 0) + amount
    return part


class _Target:
    """What the interceptors of one channel know: the provider and where it is served."""

    def __init__(self, capture: GrpcCapture, provider: Any, host: str, port: int | None) -> None:
        self.capture = capture
        self.provider = provider
        self.host = host
        self.port = port

    def begin(self, method: str | bytes, request: Any = None) -> RpcCall | None:
        """The call's span, or None when the call is not observed (suppressed, not billed, not installed).

        Never raises: an error here is reported and the call goes on unobserved.
        """
        try:
            return self._begin(method, request)
        except Exception as exc:
            report_internal_error("capture.grpc.begin", exc)
            return None

    def _begin(self, method: str | bytes, request: Any) -> RpcCall | None:
        config = self.capture.config
        if config is None or context.get_value(_SUPPRESS_INSTRUMENTATION_KEY):
            return None
        if isinstance(method, bytes):
            method = method.decode()
        route = self.provider.match_grpc(method)
        if route is None:
            return None
        service, _, name = method.lstrip("/").partition("/")
        attributes: dict[str, Any] = {
            RPC_SYSTEM: "grpc",
            RPC_SERVICE: service,
            RPC_METHOD: name,
            sc.SERVER_ADDRESS: self.host,
        }
        if self.port is not None:
            attributes[sc.SERVER_PORT] = self.port
        call = RpcCall(config, self.provider, route, attributes, detail=method)
        request_units = getattr(self.provider, "grpc_request_units", None)
        if request_units is not None and request is not None:
            try:
                call.request_units = dict(request_units(route, method, request) or {})
            except Exception as exc:
                report_internal_error("capture.grpc.request", exc)
        return call

    def parse(self, call: RpcCall, message: Any) -> Usage | None:
        try:
            return self.provider.parse_grpc(call.route, call.detail, message)
        except Exception as exc:
            call.set(sc.USAGE_STATUS, f"response not parsed: {type(exc).__name__}")
            report_internal_error("capture.grpc.parse", exc)
            return None


def _unary(request: Any) -> Any:
    """The request message, or None for a client stream (an iterator the app is still producing)."""
    return None if hasattr(request, "__iter__") or hasattr(request, "__aiter__") else request


def _fail(call: RpcCall, exc: BaseException) -> None:
    code = getattr(exc, "code", None)
    try:
        status = code() if callable(code) else None
    except Exception:
        status = None
    if status is not None and hasattr(status, "value"):
        call.set(RPC_GRPC_STATUS_CODE, status.value[0])
        call.finish(error=status.name)
    else:
        call.finish(error=exc)


class _ObservedStream(wrapt.ObjectProxy):  # type: ignore[misc]
    """A response stream (also a grpc.Call) whose messages are parsed as the app iterates them."""

    def __init__(self, wrapped: Any, target: _Target, call: RpcCall) -> None:
        super().__init__(wrapped)
        self._self_target = target
        self._self_call = call
        self._self_usage: Usage | None = None

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        try:
            message = next(self.__wrapped__)
        except StopIteration:
            self._self_call.finish(self._self_usage)
            raise
        except BaseException as exc:
            _fail(self._self_call, exc)
            raise
        self._self_usage = _add(self._self_usage, self._self_target.parse(self._self_call, message))
        return message

    def __del__(self) -> None:
        self._self_call.finish(self._self_usage, incomplete=True)


async def _observe_async_stream(stream: Any, target: _Target, call: RpcCall) -> Any:
    """The responses of a grpc.aio stream call, parsed as the app iterates them.

    An async generator, not a proxy of the call: grpc.aio wraps a generator returned by an
    interceptor around the real call (status, metadata and cancel still reach it), whereas a
    proxy of the call would be unwrapped and read past us.
    """
    usage: Usage | None = None
    try:
        async for message in stream:
            usage = _add(usage, target.parse(call, message))
            yield message
    except GeneratorExit:
        call.finish(usage, incomplete=True)
        raise
    except BaseException as exc:
        _fail(call, exc)
        raise
    call.finish(usage)


def _interceptor_types() -> tuple[type, Any]:
    import grpc
    import grpc.aio

    class Interceptor(
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
        grpc.StreamUnaryClientInterceptor,
        grpc.StreamStreamClientInterceptor,
    ):
        def __init__(self, target: _Target) -> None:
            self._target = target

        def _unary_response(self, continuation: Any, details: Any, request: Any) -> Any:
            target = self._target
            call = target.begin(details.method, _unary(request))
            if call is None:
                return continuation(details, request)
            try:
                outcome = continuation(details, request)
            except BaseException as exc:
                _fail(call, exc)
                raise

            def done(future: Any) -> None:
                try:
                    error = future.exception()
                except BaseException as exc:  # cancelled
                    error = exc
                if error is not None:
                    _fail(call, error)
                else:
                    call.finish(target.parse(call, future.result()))

            outcome.add_done_callback(done)
            return outcome

        def _stream_response(self, continuation: Any, details: Any, request: Any) -> Any:
            target = self._target
            call = target.begin(details.method, _unary(request))
            if call is None:
                return continuation(details, request)
            try:
                stream = continuation(details, request)
            except BaseException as exc:
                _fail(call, exc)
                raise
            return _ObservedStream(stream, target, call)

        intercept_unary_unary = intercept_stream_unary = _unary_response
        intercept_unary_stream = intercept_stream_stream = _stream_response

    # grpc.aio files each interceptor under ONE kind (if/elif on its type), so one class per kind.
    class AsyncUnaryInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
        def __init__(self, target: _Target) -> None:
            self._target = target

        async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
            target = self._target
            call = target.begin(details.method, request)
            if call is None:
                return await continuation(details, request)
            try:
                response_call = await continuation(details, request)
                response = await response_call  # cached by the call: the app awaits it again
            except BaseException as exc:
                _fail(call, exc)
                raise
            call.finish(target.parse(call, response))
            return response_call

    class AsyncStreamInterceptor(grpc.aio.UnaryStreamClientInterceptor):
        def __init__(self, target: _Target) -> None:
            self._target = target

        async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
            target = self._target
            call = target.begin(details.method, request)
            if call is None:
                return await continuation(details, request)
            try:
                stream = await continuation(details, request)
            except BaseException as exc:
                _fail(call, exc)
                raise
            return _observe_async_stream(stream, target, call)

    def async_interceptors(target: _Target) -> list[Any]:
        return [AsyncUnaryInterceptor(target), AsyncStreamInterceptor(target)]

    return Interceptor, async_interceptors


class GrpcCapture:
    """Hooks gRPC channel creation (sync and asyncio); idempotent instrument/uninstrument."""

    _FUNCTIONS = ("insecure_channel", "secure_channel")

    def __init__(self) -> None:
        self.config: CaptureConfig | None = None
        self._registry: Registry | None = None
        self._modules: list[Any] = []
        self._types: tuple[type, Any] | None = None

    @property
    def instrumented(self) -> bool:
        return bool(self._modules)

    def instrument(self, registry: Registry, config: CaptureConfig) -> bool:
        try:
            grpc = importlib.import_module("grpc")
            aio = importlib.import_module("grpc.aio")
        except ImportError:
            return False
        self._registry, self.config = registry, config
        if self._types is None:
            self._types = _interceptor_types()
        for module, wrapper in ((grpc, self._wrap_sync), (aio, self._wrap_async)):
            for name in self._FUNCTIONS:
                wrap_outermost(module, name, wrapper)
        self._modules = [grpc, aio]
        return True

    def uninstrument(self) -> None:
        for module, wrapper in zip(self._modules, (self._wrap_sync, self._wrap_async), strict=True):
            for name in self._FUNCTIONS:
                unwrap_outermost(module, name, wrapper)
        self._modules = []
        self.config = None

    def _target(self, args: Any, kwargs: Any) -> _Target | None:
        if self.config is None or self._registry is None:
            return None
        target = args[0] if args else kwargs.get("target")
        if not isinstance(target, str):
            return None
        host, port = host_port(target)
        provider = self._registry.lookup(host, port)
        if provider is None or not hasattr(provider, "match_grpc"):
            return None
        return _Target(self, provider, host, port)

    def _wrap_sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        channel = wrapped(*args, **kwargs)
        try:
            target = self._target(args, kwargs)
            if target is None:
                return channel
            import grpc

            assert self._types is not None
            return grpc.intercept_channel(channel, self._types[0](target))
        except Exception as exc:
            report_internal_error("capture.grpc.channel", exc)
            return channel

    def _wrap_async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            target = self._target(args, kwargs)
            if target is not None:
                assert self._types is not None
                # `interceptors` is the last parameter of both aio channel factories.
                position = 3 if wrapped.__name__ == "insecure_channel" else 4
                ours = self._types[1](target)
                if len(args) > position:
                    args = (*args[:position], [*(args[position] or ()), *ours])
                else:
                    kwargs = {**kwargs, "interceptors": [*(kwargs.get("interceptors") or ()), *ours]}
        except Exception as exc:
            report_internal_error("capture.grpc.channel", exc)
        return wrapped(*args, **kwargs)


CAPTURE = GrpcCapture()
