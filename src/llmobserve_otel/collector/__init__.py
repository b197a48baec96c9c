"""The local collector: an OTLP/HTTP receiver that prices spans and stores them in ClickHouse.

`llmobserve-otel collector` runs it; `Collector` + `ServerThread` embed it (tests, benchmarks).
"""

from __future__ import annotations

from llmobserve_otel.collector._app import Collector, CollectorConfig, collector_pricer
from llmobserve_otel.collector._server import ServerThread, serve

__all__ = ("Collector", "CollectorConfig", "ServerThread", "collector_pricer", "serve")
