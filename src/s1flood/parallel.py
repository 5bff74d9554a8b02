"""Ordered, bounded thread-parallel map for block processing.

Block work (GDAL reads, numba `nogil` kernels, numpy ufuncs) releases the GIL, so threads
use every core; at most `workers * 2` blocks are in flight, so memory stays bounded by
the block size whatever the raster size.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")


def default_workers() -> int:
    """Worker threads to use: the CPUs this process may run on."""
    return max(1, len(os.sched_getaffinity(0)))


class BlockPool:
    """A thread pool kept for a whole job, so per-thread buffers and datasets are made once."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="s1flood")

    def __enter__(self) -> BlockPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply `function` to `items` in the pool, yielding results in input order."""
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(self._pool.submit(function, item))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def ordered_map(
    function: Callable[[T], R], items: Iterable[T], workers: int | None = None
) -> Iterator[R]:
    """Apply `function` to `items` on a temporary thread pool, yielding results in input order."""
    with BlockPool(workers) as pool:
        yield from pool.map(function, items)


class PerThread(Generic[V]):
    """A lazily created value per worker thread (e.g. an open GDAL dataset), closed at the end."""

    def __init__(self, factory: Callable[[], V], close: Callable[[V], None]) -> None:
        self._factory = factory
        self._close = close
        self._local = threading.local()
        self._all: list[V] = []
        self._lock = threading.Lock()

    def get(self) -> V:
        """Return the calling thread's value, creating it on first use."""
        value: V | None = getattr(self._local, "value", None)
        if value is None:
            value = self._factory()
            self._local.value = value
            with self._lock:
                self._all.append(value)
        return value

    def close(self) -> None:
        """Close every value created so far."""
        with self._lock:
            for value in self._all:
                self._close(value)
            self._all.clear()
