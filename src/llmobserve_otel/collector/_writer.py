"""The bounded queue between the receiver and the store, drained by insert threads.

The receiver acknowledges a request only once its rows are in this queue, so everything here
must reach the store: a failed insert is retried (with backoff) instead of dropped, and `stop()`
drains the queue before returning. The queue is bounded in spans; when it is full, or while the
store is failing, `submit` refuses and the receiver answers 503 so the exporter retries later.
Inserts are batched by size (`batch_size` spans) and time (`flush_interval` seconds after the
oldest queued span), so the store sees few large inserts under load and a lone span still
lands within the interval. With more than one insert thread, batches are inserted side by side
(the embedded store runs an insert on ~1.4 of 2 cores; a second insert fills the rest).

The queue holds chunks, one per request: a list of rows, or an object with a `merge` classmethod
(the collector's `SpanRows`). An insert gets consecutive chunks of one kind, merged: rows into one
list, the others by their `merge`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sized
from typing import Any

__all__ = ("Writer",)

_log = logging.getLogger(__name__)

Insert = Callable[[Any], None]


def _merge(chunks: list[Any]) -> Any:
    merge = getattr(type(chunks[0]), "merge", None)
    if merge is not None:
        return merge(chunks)
    rows: list[Any] = []
    for chunk in chunks:
        rows.extend(chunk)
    return rows


class Writer:
    """Queue chunks of spans and insert them from a background thread.

    Args:
        insert: writes a merged chunk (a list of rows, or a merged chunk object) to the store;
            raises on failure.
        batch_size: insert as soon as this many spans are queued.
        flush_interval: insert at the latest this many seconds after the oldest queued span.
        max_queue: most spans held in memory (queued plus in flight).
        threads: insert threads; `insert` is then called from several threads at once.
    """

    def __init__(
        self,
        insert: Insert,
        *,
        batch_size: int = 10_000,
        flush_interval: float = 1.0,
        max_queue: int = 200_000,
        retry_max_delay: float = 10.0,
        threads: int = 1,
    ) -> None:
        if batch_size < 1 or max_queue < batch_size or flush_interval <= 0 or threads < 1:
            raise ValueError(
                "need batch size >= 1, max queue >= batch size, flush interval > 0 and insert threads >= 1"
            )
        self._insert = insert
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_queue = max_queue
        self._retry_max_delay = retry_max_delay
        self._queue: deque[Any] = deque()
        self._queued = 0  # spans in _queue
        self._in_flight = 0  # spans taken by the threads, not yet inserted
        self._oldest: float | None = None  # monotonic time the oldest queued span arrived
        self._cond = threading.Condition()
        self._stopping = False
        self._failing: str | None = None
        self._inserted = 0
        self._unstored: list[Any] = []  # the in-flight chunks the threads gave up on at shutdown
        self._threads = [
            threading.Thread(target=self._run, name=f"llmobserve-writer-{n}", daemon=True)
            for n in range(threads)
        ]

    # --- receiver side ---

    def submit(self, rows: Sized) -> bool:
        """Queue a chunk of `len(rows)` spans (all or nothing); False when full, failing or stopping."""
        if not len(rows):
            return True
        with self._cond:
            if self._stopping or self._failing is not None:
                return False
            if self._queued + self._in_flight + len(rows) > self._max_queue:
                return False
            first = self._oldest is None
            if first:
                self._oldest = time.monotonic()
            self._queue.append(rows)
            self._queued += len(rows)
            # Wake the thread when its deadline appears (first rows) or a batch is full.
            if first or self._queued >= self._batch_size:
                self._cond.notify()
        return True

    @property
    def pending(self) -> int:
        """Spans accepted but not yet inserted."""
        with self._cond:
            return self._queued + self._in_flight

    @property
    def room(self) -> int:
        """Spans the queue can still take."""
        with self._cond:
            return self._max_queue - self._queued - self._in_flight

    @property
    def inserted(self) -> int:
        """Spans inserted since start."""
        return self._inserted

    @property
    def failing(self) -> str | None:
        """The last insert error while inserts are failing, else None."""
        return self._failing

    # --- lifecycle ---

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Refuse new rows, insert everything queued, stop the threads; True when fully drained."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.pending == 0

    def leftover(self) -> list[Any]:
        """Chunks accepted but not stored, once `stop()` gave up on a failing store (else empty).

        Only meaningful after `stop()`: the caller saves them elsewhere rather than lose them.
        """
        with self._cond:
            return [*self._unstored, *self._queue]

    # --- insert thread ---

    def _take(self) -> list[Any] | None:
        """Wait for a batch that is due and take its chunks; None when stopping with nothing left."""
        with self._cond:
            while True:
                if self._queued >= self._batch_size or (self._stopping and self._queued):
                    break
                if self._queued and self._oldest is not None:
                    wait = self._oldest + self._flush_interval - time.monotonic()
                    if wait <= 0:
                        break
                elif self._stopping:
                    return None
                else:
                    wait = None
                self._cond.wait(wait)
            chunks = [self._queue.popleft()]
            spans = len(chunks[0])
            kind = type(chunks[0])
            while self._queue and spans < self._batch_size and type(self._queue[0]) is kind:
                chunks.append(self._queue.popleft())
                spans += len(chunks[-1])
            self._queued -= spans
            self._in_flight += spans
            self._oldest = time.monotonic() if self._queued else None
            if self._queued >= self._batch_size:
                self._cond.notify()  # another thread may take the next batch meanwhile
            return chunks

    def _run(self) -> None:
        delay = 0.1
        while True:
            chunks = self._take()
            if chunks is None:
                return
            batch = _merge(chunks)
            spans = len(batch)
            while True:
                try:
                    self._insert(batch)
                except Exception as exc:  # the store is down or refused: keep the rows, retry
                    with self._cond:
                        first = self._failing is None
                        self._failing = f"{type(exc).__name__}: {exc}"
                    if first:
                        _log.error("llmobserve collector: insert failed, retrying: %s", self._failing)
                    if self._stopping and delay >= self._retry_max_delay:
                        # Give up on shutdown only after a full backoff cycle; `leftover()` hands
                        # the rows to the caller.
                        with self._cond:
                            self._unstored.append(batch)
                        return
                    time.sleep(delay)
                    delay = min(delay * 2, self._retry_max_delay)
                    continue
                with self._cond:
                    if self._failing is not None:
                        _log.warning("llmobserve collector: store writable again")
                    self._failing = None
                    self._in_flight -= spans
                    self._inserted += spans
                delay = 0.1
                break
