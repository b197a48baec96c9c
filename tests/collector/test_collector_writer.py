"""The writer: size and time batching, bounded queue, retry while the store fails, drain on stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from llmobserve_otel.collector._writer import Writer


class Store:
    """Records inserted batches; fails while `down` is set."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.down = False
        self.attempts = 0
        self.inserted = threading.Event()

    def insert(self, rows: Sequence[Any]) -> None:
        self.attempts += 1
        if self.down:
            raise ConnectionError("store unreachable")
        self.batches.append(list(rows))
        self.inserted.set()

    @property
    def rows(self) -> list[Any]:
        return [r for b in self.batches for r in b]


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_full_batches_go_at_once() -> None:
    store = Store()
    writer = Writer(store.insert, batch_size=4, flush_interval=60, max_queue=100)
    writer.start()
    writer.submit([1, 2])
    writer.submit([3, 4, 5])
    wait_for(lambda: store.batches)
    assert store.batches == [[1, 2, 3, 4, 5]]
    assert writer.stop(5)


def test_a_lone_span_goes_after_the_flush_interval() -> None:
    store = Store()
    writer = Writer(store.insert, batch_size=1000, flush_interval=0.05, max_queue=2000)
    writer.start()
    started = time.monotonic()
    writer.submit(["only"])
    assert store.inserted.wait(5)
    assert 0.04 <= time.monotonic() - started < 2
    assert store.rows == ["only"] and writer.inserted == 1 and writer.pending == 0
    writer.stop(5)


def test_queue_is_bounded_all_or_nothing() -> None:
    store = Store()
    writer = Writer(store.insert, batch_size=5, flush_interval=60, max_queue=10)  # thread not started
    assert writer.submit(list(range(8)))
    assert not writer.submit([8, 9, 10])  # would make 11
    assert writer.submit([8, 9])
    assert writer.pending == 10


def test_stop_drains_everything_accepted() -> None:
    store = Store()
    writer = Writer(store.insert, batch_size=3, flush_interval=60, max_queue=100)
    writer.start()
    for i in range(10):
        assert writer.submit([i])
    assert writer.stop(10)
    assert sorted(store.rows) == list(range(10))
    assert not writer.submit([99])  # stopped: refuse, the receiver answers 503


def test_failing_store_keeps_rows_and_refuses_new_ones_until_it_recovers() -> None:
    store = Store()
    store.down = True
    writer = Writer(store.insert, batch_size=2, flush_interval=0.01, max_queue=100, retry_max_delay=0.05)
    writer.start()
    assert writer.submit(["a", "b"])
    wait_for(lambda: writer.failing is not None)
    assert writer.failing == "ConnectionError: store unreachable"
    assert not writer.submit(["c"])  # 503: the exporter keeps it and retries
    store.down = False
    wait_for(lambda: writer.failing is None and store.rows == ["a", "b"])
    assert writer.submit(["c"])
    assert writer.stop(5)
    assert store.rows == ["a", "b", "c"]


def test_stop_reports_rows_it_could_not_store() -> None:
    store = Store()
    store.down = True
    writer = Writer(store.insert, batch_size=1, flush_interval=0.01, max_queue=10, retry_max_delay=0.02)
    writer.start()
    writer.submit(["lost"])
    wait_for(lambda: writer.failing is not None)
    assert writer.stop(5) is False
    assert writer.pending == 1
    assert writer.leftover() == [["lost"]]  # its chunk, handed back to the caller to spool, not dropped


def test_rejects_inconsistent_bounds() -> None:
    with pytest.raises(ValueError):
        Writer(lambda rows: None, batch_size=10, max_queue=5)
    with pytest.raises(ValueError):
        Writer(lambda rows: None, threads=0)


def test_two_threads_insert_two_batches_at_once() -> None:
    store = Store()
    both_in = threading.Barrier(2, timeout=5)  # breaks (and the insert raises) unless two overlap

    def insert(rows: Sequence[Any]) -> None:
        both_in.wait()
        store.insert(rows)

    writer = Writer(insert, batch_size=2, flush_interval=60, max_queue=100, threads=2)
    writer.start()
    assert writer.submit(["a", "b"])
    assert writer.submit(["c", "d"])
    wait_for(lambda: len(store.batches) == 2)
    assert not both_in.broken
    assert sorted(store.batches) == [["a", "b"], ["c", "d"]]
    assert writer.pending == 0 and writer.inserted == 4
    assert writer.stop(5)


def test_two_threads_drain_everything_once() -> None:
    store = Store()
    writer = Writer(store.insert, batch_size=7, flush_interval=0.01, max_queue=1000, threads=2)
    writer.start()
    for i in range(500):
        assert writer.submit([i])
    assert writer.stop(10)
    assert sorted(store.rows) == list(range(500))  # every row, none twice
    assert writer.inserted == 500


def test_two_threads_stop_hands_back_both_unstored_batches() -> None:
    store = Store()
    store.down = True
    writer = Writer(
        store.insert, batch_size=1, flush_interval=0.01, max_queue=10, retry_max_delay=0.02, threads=2
    )
    writer.start()
    assert writer.submit(["x"]) and writer.submit(["y"])
    wait_for(lambda: store.attempts >= 4)  # both taken and retried
    assert writer.stop(5) is False
    assert writer.pending == 2
    assert sorted(writer.leftover()) == [["x"], ["y"]]
