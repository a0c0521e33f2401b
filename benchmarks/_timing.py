"""How the speed scripts time a call: one warm-up, then the median wall time of several runs.

One definition, so every table that says "median of N runs after a warm-up" means the same thing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["median_ms"]


def median_ms(call: Callable[[], object], runs: int) -> float:
    """Median wall milliseconds of ``runs`` calls of ``call``, after one untimed warm-up call."""
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)
