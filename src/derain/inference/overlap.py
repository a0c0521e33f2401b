"""Overlap a video's decoding and encoding with the model: one frame read ahead, one written behind.

Without it, ``derain video`` decodes a frame, derains it, encodes it, and only then decodes the next,
so the codec's time adds to the model's. FFmpeg (through PyAV) and PyTorch do their heavy work
outside the GIL, so a helper thread can decode the next frame and encode the previous one while the
model runs. At most one frame is in flight each way: memory stays that of three frames, and frame
order is kept. Measured by interleaved runs of ``derain video`` before and after (docs/methods/php.md,
"Speed"); ``benchmarks/speed_models.py`` times the command as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["WriteBehind", "read_ahead"]

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T], pool: ThreadPoolExecutor) -> Iterator[T]:
    """Yield ``items`` in order while ``pool`` already fetches the next one; its errors surface here."""
    source = iter(items)
    upcoming = pool.submit(next, source, _END)
    while (item := upcoming.result()) is not _END:
        upcoming = pool.submit(next, source, _END)
        yield item


class WriteBehind:
    """Run writes in ``pool``, one at a time and in order; a failed write raises at the next call or :meth:`wait`."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self.pending: Future[Any] | None = None

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Wait for the previous write, then start ``write(*args)`` in the background."""
        self.wait()
        self.pending = self.pool.submit(write, *args)

    def wait(self) -> None:
        """Block until the write in flight (if any) has finished; re-raise its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()
