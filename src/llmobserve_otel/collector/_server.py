"""Running the collector on uvicorn, with a shutdown that loses nothing it acknowledged.

SIGTERM or SIGINT: uvicorn stops accepting connections and finishes the requests in flight (each
either queued its rows and got 200, or got an error the exporter retries); the app's lifespan
shutdown then drains the queue into the store and closes it. Only then does the process exit.
"""

from __future__ import annotations

import gc
import logging

import uvicorn

from llmobserve_otel._internal.serving import ServerThread as _ServerThread
from llmobserve_otel._internal.serving import run_taking_signals
from llmobserve_otel.collector._app import Collector

__all__ = ("ServerThread", "serve")

_log = logging.getLogger(__name__)


def _uvicorn_config(collector: Collector, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        collector.app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        # Requests in flight get this long to finish after SIGTERM before connections are cut;
        # the queue drain that follows is not bounded by it.
        timeout_graceful_shutdown=30,
        timeout_keep_alive=30,
        limit_concurrency=256,
    )


def serve(collector: Collector, host: str, port: int, *, log_level: str = "warning") -> bool:
    """Serve until SIGTERM/SIGINT; True when everything accepted was stored.

    `collector` must be open; the process exits through this return (see `run_taking_signals`).
    """
    # Ingestion allocates a few containers per span and keeps up to --max-queue spans alive; with
    # the default thresholds the cycle collector keeps re-walking that queue (about a quarter of
    # the CPU at full load). Spans hold no reference cycles, so collect far less often.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    run_taking_signals(uvicorn.Server(_uvicorn_config(collector, host, port, log_level)).run)
    # Lifespan shutdown already drained; close() again is a no-op then, and the safety net if
    # the server never got to start.
    return collector.close()


class ServerThread(_ServerThread):
    """The collector's server in a background thread (tests, benchmarks, embedding).

    `with ServerThread(collector, port=0) as server: ... server.url` serves on a free port.
    """

    def __init__(self, collector: Collector, host: str = "127.0.0.1", port: int = 0) -> None:
        self.collector = collector
        super().__init__(uvicorn.Server(_uvicorn_config(collector, host, port, "warning")), "collector")

    def stop(self, timeout: float = 60.0) -> None:
        super().stop(timeout)
