"""Read-ahead and write-behind keep order, keep at most one item in flight, and surface errors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from derain.inference.overlap import WriteBehind, read_ahead


def test_read_ahead_keeps_order_and_fetches_in_the_helper_thread() -> None:
    fetched_by: list[str] = []

    def source():
        for k in range(5):
            fetched_by.append(threading.current_thread().name)
            yield k

    with ThreadPoolExecutor(2, thread_name_prefix="io") as pool:
        assert list(read_ahead(source(), pool)) == [0, 1, 2, 3, 4]
    assert fetched_by and all(name.startswith("io") for name in fetched_by)


def test_read_ahead_runs_one_item_ahead_only() -> None:
    pulled: list[int] = []

    def source():
        for k in range(10):
            pulled.append(k)
            yield k

    with ThreadPoolExecutor(1) as pool:
        items = read_ahead(source(), pool)
        assert next(items) == 0
        time.sleep(0.05)  # give the helper time to run further ahead if it wrongly would
        assert pulled == [0, 1]


def test_read_ahead_raises_the_sources_error_in_the_caller() -> None:
    def source():
        yield 1
        raise ValueError("frame 2 is damaged")

    with ThreadPoolExecutor(1) as pool:
        items = read_ahead(source(), pool)
        assert next(items) == 1
        with pytest.raises(ValueError, match="frame 2 is damaged"):
            next(items)


def test_write_behind_writes_in_order_one_at_a_time() -> None:
    written: list[int] = []
    busy = threading.Lock()

    def write(k: int) -> None:
        assert busy.acquire(blocking=False), "two writes overlapped"
        time.sleep(0.01)
        written.append(k)
        busy.release()

    with ThreadPoolExecutor(2) as pool:
        behind = WriteBehind(pool)
        for k in range(5):
            behind.submit(write, k)
        behind.wait()
    assert written == [0, 1, 2, 3, 4]


def test_write_behind_raises_a_failed_write_at_the_next_call() -> None:
    def write(k: int) -> None:
        if k == 1:
            raise OSError("disk full")

    with ThreadPoolExecutor(1) as pool:
        behind = WriteBehind(pool)
        behind.submit(write, 0)
        behind.submit(write, 1)
        with pytest.raises(OSError, match="disk full"):
            behind.submit(write, 2)
