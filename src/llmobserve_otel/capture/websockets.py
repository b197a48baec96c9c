"""Usage capture for WebSocket client sessions (`websockets`): OpenAI Realtime and other APIs billed per message.

The client connection classes are wrapped at `recv` (`websockets.sync.client.ClientConnection` and
`websockets.asyncio.client.ClientConnection`; iterating a connection goes through `recv` too), so
every connection is covered however the app or SDK opened it (the openai SDK imports `connect`
inside its own function). On a connection's first received message, its handshake `Host` is looked
up in the provider registry and the provider's `new_ws_session(path, params)` hook (on the module,
or its `<module>_realtime` companion) decides whether the session is billed. Each message the app
receives is then handed, after `recv` returned it, to the session parser: never read ahead, never
changed (a bytes message is decoded on a copy). `recv_streaming` (fragments) is not observed.
For APIs that bill what the client sends, text messages passed to `send` (once sent) are handed to
the parser's optional `sent` too; fragmented sends (iterables) pass through unobserved. `close` is
wrapped to end the responses still open when the app closes the connection.

Span shape: one CLIENT span per billed response (OpenAI `response.done`), started when the response
was created (`response.created`, in the app's context at that moment, so customer and section
apply; SDKs that read in a background thread have none there, so the context in which the
connection was opened is used instead) and ended when it is done; a session produces several. There is no session span: a session
can stay open for hours and a span that long is lost with the process; the response spans share
`gen_ai.conversation.id` (the provider's session id). Responses still open when the connection
closes end as incomplete spans without usage.
"""

from __future__ import annotations

import importlib
import ssl
import threading
import time
import weakref
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import wrapt
from opentelemetry import baggage, context, trace
from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal.guard import report_internal_error
from llmobserve_otel.capture._call import CaptureConfig
from llmobserve_otel.capture._patch import is_outermost
from llmobserve_otel.capture._rpc import RpcCall
from llmobserve_otel.providers import Registry, Route

REALTIME = Route("realtime")
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"
_TARGETS = (("websockets.sync.client", False), ("websockets.asyncio.client", True))
_MAX_OPEN_RESPONSES = 256  # a session that never sends `response.done` must not grow without bound


def _ws_hook(provider: Any) -> Any:
    """The provider's `new_ws_session`, on its module or its `<module>_realtime` companion, or None."""
    hook = getattr(provider, "new_ws_session", None)
    if hook is not None:
        return hook
    try:
        companion = importlib.import_module(f"{provider.__name__}_realtime")
    except ImportError:
        return None
    return getattr(companion, "new_ws_session", None)


class _Session:
    """One observed WebSocket session: the parser and the responses in flight."""

    def __init__(
        self, capture: WebSocketsCapture, provider: Any, parser: Any, attrs: dict[str, Any], origin: Any
    ) -> None:
        self.capture = capture
        self.origin: context.Context | None = origin
        """The context the connection was opened in (for messages read on a thread without one)."""
        self.provider = provider
        self.parser = parser
        self.attrs = attrs
        """Transport attributes every response span gets (server, URL without query)."""
        self.route: Route = getattr(parser, "route", REALTIME)
        """The parser's route (`live_transcription`, ...); OpenAI Realtime's by default."""
        self.open: dict[str, tuple[int, context.Context]] = {}
        self.lock = threading.Lock()

    def message(self, message: Any, *, sent: bool = False) -> None:
        if isinstance(message, (bytes, bytearray, memoryview)):
            if bytes(message[:1]) != b"{":  # binary audio frames carry no usage
                return
            message = bytes(message).decode("utf-8", "replace")
        elif not isinstance(message, str):
            return
        if sent:
            feed_sent = getattr(self.parser, "sent", None)
            event = feed_sent(message) if feed_sent is not None else None
        else:
            event = self.parser.feed(message)
        if event is None:
            return
        if event.usage is None:
            with self.lock:
                if len(self.open) < _MAX_OPEN_RESPONSES:
                    self.open[event.response_id] = (time.time_ns(), self._parent())
            return
        with self.lock:
            start_ns, parent = self.open.pop(event.response_id, (None, None))
        if parent is None:  # ended without a start event: parent it as a start would have been
            parent = self._parent()
        call = self._call(start_ns, parent, event.usage.model, event.route)
        call.set(sc.GEN_AI_RESPONSE_ID, event.response_id)
        call.finish(event.usage)

    def _parent(self) -> context.Context:
        current = context.get_current()
        if self.origin is None or trace.get_current_span(current).get_span_context().is_valid:
            return current
        return current if baggage.get_all(current) else self.origin

    def closed(self, error: BaseException | None) -> None:
        """The connection ended: responses still in flight end incomplete, without usage."""
        with self.lock:
            pending, self.open = self.open, {}
        for response_id, (start_ns, parent) in pending.items():
            call = self._call(start_ns, parent, getattr(self.parser, "model", None))
            call.set(sc.GEN_AI_RESPONSE_ID, response_id)
            call.finish(error=error, incomplete=True)

    def _call(
        self, start_ns: int | None, parent: Any, model: str | None, route: Route | None = None
    ) -> RpcCall:
        config = self.capture.config
        assert config is not None
        route = route or self.route
        attrs = dict(self.attrs)
        if route.kind == "llm":
            attrs[sc.GEN_AI_PROVIDER_NAME] = self.provider.NAME
            attrs[sc.GEN_AI_OPERATION_NAME] = route.operation
        model = model or getattr(self.parser, "model", None)
        if model:
            attrs[sc.GEN_AI_REQUEST_MODEL] = model
        conversation = getattr(self.parser, "session_id", None)
        if conversation:
            attrs[GEN_AI_CONVERSATION_ID] = conversation
        call = RpcCall(config, self.provider, route, attrs, start_ns=start_ns, parent=parent)
        call.span.update_name(f"{route.operation} {model}" if model else route.operation)
        return call


class WebSocketsCapture:
    """Instrument/uninstrument the `websockets` client connections (idempotent)."""

    def __init__(self) -> None:
        self.registry: Registry | None = None
        self.config: CaptureConfig | None = None
        self._classes: dict[tuple[type, str], bool] = {}
        """(class, method) wrapped -> whether the class defined it itself (else inherited: unwrap by deleting)."""
        self._sessions: weakref.WeakKeyDictionary[Any, _Session | None] = weakref.WeakKeyDictionary()
        self._origins: weakref.WeakKeyDictionary[Any, context.Context] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @property
    def instrumented(self) -> bool:
        return bool(self._classes)

    def instrument(self, registry: Registry, config: CaptureConfig) -> bool:
        """Wrap `ClientConnection.recv` (sync and asyncio) outermost; False when `websockets` is missing."""
        self.registry, self.config = registry, config
        for module_name, asynchronous in _TARGETS:
            try:
                cls = importlib.import_module(module_name).ClientConnection
            except (ImportError, AttributeError):
                continue
            for name, wrapper in self._wrappers(asynchronous):
                if not is_outermost(cls, name, wrapper):
                    self._classes.setdefault((cls, name), name in cls.__dict__)
                    wrapt.wrap_function_wrapper(cls, name, wrapper)
        return bool(self._classes)

    def _wrappers(self, asynchronous: bool) -> tuple[tuple[str, Any], ...]:
        if asynchronous:
            return (
                ("__init__", self._init),
                ("recv", self._recv_async),
                ("send", self._send_async),
                ("close", self._close_async),
            )
        return (
            ("__init__", self._init),
            ("recv", self._recv_sync),
            ("send", self._send_sync),
            ("close", self._close_sync),
        )

    def _init(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            current = context.get_current()
            if trace.get_current_span(current).get_span_context().is_valid or baggage.get_all(current):
                self._origins[instance] = current
        except Exception as exc:
            report_internal_error("capture.websockets.init", exc)
        return result

    def uninstrument(self) -> None:
        for (cls, name), own in self._classes.items():
            # Only our own outermost wrapper can be removed; one left deeper passes messages through.
            current = cls.__dict__.get(name)
            if isinstance(current, wrapt.FunctionWrapper) and current._self_wrapper in (  # type: ignore[attr-defined]
                *(w for _, w in self._wrappers(False)),
                *(w for _, w in self._wrappers(True)),
            ):
                wrapped = current.__wrapped__
                if own or isinstance(wrapped, wrapt.FunctionWrapper):
                    setattr(cls, name, wrapped)
                else:
                    delattr(cls, name)
        self._classes = {}

    def _session(self, connection: Any) -> _Session | None:
        """The session of `connection`, decided once, on its first received message."""
        try:
            return self._sessions[connection]
        except KeyError:
            pass
        session = None
        if self.config is not None and not context.get_value(_SUPPRESS_INSTRUMENTATION_KEY):
            session = self._new_session(connection)
        with self._lock:
            return self._sessions.setdefault(connection, session)

    def _new_session(self, connection: Any) -> _Session | None:
        assert self.registry is not None
        request = getattr(connection, "request", None)
        host_header = request.headers.get("Host") if request is not None else None
        if not host_header:
            return None
        parts = urlsplit(f"//{host_header}")
        host, port = parts.hostname or "", parts.port
        provider = self.registry.lookup(host, port)
        if provider is None:
            return None
        hook = _ws_hook(provider)
        path, _, query = request.path.partition("?")
        parser = hook(path, dict(parse_qsl(query))) if hook is not None else None
        if parser is None:
            return None
        secure = _is_secure(connection)
        scheme = "wss" if secure else "ws"
        port_part = f":{port}" if port is not None and port != (443 if secure else 80) else ""
        attrs: dict[str, Any] = {
            sc.SERVER_ADDRESS: host,
            sc.URL_FULL: f"{scheme}://{host}{port_part}{path}",  # no query string: it may carry keys
        }
        if port is not None:
            attrs[sc.SERVER_PORT] = port
        return _Session(self, provider, parser, attrs, self._origins.get(connection))

    def _observe(self, connection: Any, message: Any, *, sent: bool = False) -> None:
        try:
            session = self._session(connection)
            if session is not None:
                session.message(message, sent=sent)
        except Exception as exc:
            report_internal_error("capture.websockets.message", exc)

    def _closed(self, connection: Any, exc: BaseException | None) -> None:
        from websockets.exceptions import ConnectionClosedOK

        try:
            session = self._sessions.get(connection)
            if session is not None:
                session.closed(None if exc is None or isinstance(exc, ConnectionClosedOK) else exc)
        except Exception as error:
            report_internal_error("capture.websockets.closed", error)

    def _recv_sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            message = wrapped(*args, **kwargs)
        except Exception as exc:
            if _is_connection_closed(exc):
                self._closed(instance, exc)
            raise
        self._observe(instance, message)
        return message

    async def _recv_async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            message = await wrapped(*args, **kwargs)
        except Exception as exc:
            if _is_connection_closed(exc):
                self._closed(instance, exc)
            raise
        self._observe(instance, message)
        return message

    def _send_sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        self._observe(instance, args[0] if args else kwargs.get("message"), sent=True)
        return result

    async def _send_async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        result = await wrapped(*args, **kwargs)
        self._observe(instance, args[0] if args else kwargs.get("message"), sent=True)
        return result

    def _close_sync(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            self._closed(instance, None)  # the app closed it: responses still open end incomplete

    async def _close_async(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            self._closed(instance, None)


def _is_connection_closed(exc: BaseException) -> bool:
    from websockets.exceptions import ConnectionClosed

    return isinstance(exc, ConnectionClosed)


def _is_secure(connection: Any) -> bool:
    """Whether the connection runs over TLS (wss)."""
    for candidate in (getattr(connection, "socket", None), getattr(connection, "transport", None)):
        if candidate is None:
            continue
        if isinstance(candidate, ssl.SSLSocket):  # subclasses too (the assemblyai SDK has its own)
            return True
        get_extra = getattr(candidate, "get_extra_info", None)
        if get_extra is not None and get_extra("sslcontext") is not None:
            return True
    return False


CAPTURE = WebSocketsCapture()
