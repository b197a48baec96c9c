"""The recent-span window that keeps OTLP retries from being stored (and billed) twice.

An exporter retries when it did not get an answer: the first copy may already be stored. The
collector remembers the (trace id, span id) of every span it accepted, in two generations of
at most `capacity / 2` keys each: when the young one fills, the old one is dropped. Memory stays
bounded (about 80 bytes a key) and a span is remembered for at least `capacity / 2` later spans.
The window is primed from the store at start-up, so a retry that reaches a restarted collector
is caught too.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ("SeenWindow",)


class SeenWindow:
    """A bounded set of recently accepted span keys (`trace_id + span_id` bytes).

    Not thread-safe: the collector touches it from the event loop only.
    """

    def __init__(self, capacity: int = 500_000) -> None:
        self._half = max(1, capacity // 2)
        self._young: set[bytes] = set()
        self._old: set[bytes] = set()

    def __contains__(self, key: bytes) -> bool:
        return key in self._young or key in self._old

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def add_all(self, keys: Iterable[bytes]) -> None:
        for key in keys:
            self._young.add(key)
            if len(self._young) >= self._half:
                self._old = self._young
                self._young = set()
