"""Telemetry never breaks the user's app: internal errors are logged once per site and swallowed.

Under our own test suite (`LLMOBSERVE_RAISE_INTERNAL_ERRORS=1`) they re-raise, so a bug in capture
or pricing fails a test instead of hiding behind the guard.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

_log = logging.getLogger("llmobserve_otel")
_reported: set[str] = set()


def _raise_internal_errors() -> bool:
    return os.environ.get("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "") == "1"


def report_internal_error(site: str, exc: BaseException) -> None:
    """Log `exc` once for `site`; re-raise under the test suite."""
    if _raise_internal_errors():
        raise exc
    if site not in _reported:
        _reported.add(site)
        _log.warning(
            "llmobserve internal error in %s (your code still runs; this call's telemetry may be partial)",
            site,
            exc_info=exc,
        )


@contextmanager
def internal_errors(site: str) -> Iterator[None]:
    """Swallow (and report) any exception raised by telemetry code inside the block."""
    try:
        yield
    except Exception as exc:
        report_internal_error(site, exc)
