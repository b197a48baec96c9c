"""One provider call over a non-HTTP wire (gRPC, MongoDB, Redis) as a span, priced when it ends.

The HTTP captures drive `ProviderCall`; these transports have no HTTP head or body, so this builds
the same CLIENT span (`llmobserve.provider`, `llmobserve.operation`, `llmobserve.usage.*`, cost)
with the transport's own attributes (`rpc.*`, `db.*`). The start time may be given: command
monitoring reports a command only after it ran.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from llmobserve_otel import semconv as sc
from llmobserve_otel._internal import priced
from llmobserve_otel._internal.guard import internal_errors
from llmobserve_otel.capture._call import CaptureConfig, _usage_attributes
from llmobserve_otel.providers import Route, Usage

# Transport attributes (OTel RPC and database semantic conventions).
RPC_SYSTEM = "rpc.system"
RPC_SERVICE = "rpc.service"
RPC_METHOD = "rpc.method"
RPC_GRPC_STATUS_CODE = "rpc.grpc.status_code"
DB_SYSTEM = "db.system"
DB_OPERATION_NAME = "db.operation.name"
DB_NAMESPACE = "db.namespace"
DB_COLLECTION_NAME = "db.collection.name"


class RpcCall:
    """The span of one non-HTTP provider call; `finish` ends it exactly once."""

    def __init__(
        self,
        config: CaptureConfig,
        provider: Any,
        route: Route,
        attributes: dict[str, Any],
        *,
        start_ns: int | None = None,
        parent: Any = None,
        detail: Any = None,
    ) -> None:
        self.provider = provider
        self.route = route
        self.detail = detail
        """What the transport needs to parse the reply (the gRPC method, the Redis command)."""
        self.request_units: dict[str, float] = {}
        """Units known from the request; the reply's win, a failed call drops them."""
        self._config = config
        self._lock = threading.Lock()
        self._done = False
        self._start_ns = start_ns or time.time_ns()
        attrs: dict[str, Any] = {
            sc.PROVIDER: provider.NAME,
            sc.OPERATION: route.operation,
            sc.CAPTURE: "wire",
            **attributes,
        }
        self._attrs = attrs
        self._start_keys = frozenset(attrs)
        self.span = config.tracer.start_span(
            route.operation, context=parent, kind=SpanKind.CLIENT, attributes=attrs, start_time=self._start_ns
        )
        priced.cover_current_span(parent)

    def set(self, key: str, value: Any) -> None:
        self._attrs[key] = value

    def finish(
        self,
        usage: Usage | None = None,
        *,
        error: BaseException | str | None = None,
        end_ns: int | None = None,
        incomplete: bool = False,
    ) -> None:
        """End the span with what is known; later calls are ignored. A failed call carries no usage."""
        with self._lock:
            if self._done:
                return
            self._done = True
        with internal_errors("capture.rpc.finish"):
            attrs = self._attrs
            if error is not None:
                if isinstance(error, BaseException):
                    attrs.setdefault(sc.ERROR_TYPE, type(error).__qualname__)
                    self.span.record_exception(error)
                    message = f"{type(error).__name__}: {error}"
                else:
                    attrs.setdefault(sc.ERROR_TYPE, error)
                    message = error
                self.span.set_status(Status(StatusCode.ERROR, message))
            elif usage is not None or self.request_units:
                usage = usage or Usage()
                usage.units = {**self.request_units, **usage.units}
                _usage_attributes(usage, attrs)
            else:
                attrs.setdefault(sc.USAGE_STATUS, "no usage in response")
            if incomplete:
                attrs[sc.USAGE_INCOMPLETE] = True
            if self._config.price_source is not None and error is None:
                # Imported at the first call: observe() stays light.
                from llmobserve_otel.pricing import cost_attributes

                attrs.update(
                    cost_attributes(attrs, source=self._config.price_source, timestamp_ns=self._start_ns)
                )
            self.span.set_attributes({k: v for k, v in attrs.items() if k not in self._start_keys})
        self.span.end(end_time=end_ns)


def host_port(target: str) -> tuple[str, int | None]:
    """`host` and `port` of a gRPC target or `host:port` string (`dns:///h:p`, `ipv4:h:p`, `[::1]:p`)."""
    for prefix in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    target = target.split(",", 1)[0]
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
    try:
        return host.lower(), int(port) if port else None
    except ValueError:
        return host.lower(), None
