"""Bill a polled job once: which job ids were already billed in this process (bounded, thread-safe).

Asynchronous APIs (AssemblyAI transcripts, Runway tasks) report the final usage of a job on every
read of the finished job; only the first read in this process carries the usage.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class BilledOnce:
    def __init__(self, limit: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def first(self, job_id: str) -> bool:
        """True the first time `job_id` is seen (the oldest ids are forgotten past the limit)."""
        with self._lock:
            if job_id in self._ids:
                return False
            self._ids[job_id] = None
            if len(self._ids) > self._limit:
                self._ids.popitem(last=False)
            return True
