"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/X.py``)."""

from __future__ import annotations

import statistics
import time


def time_calls(fn, repeats: int) -> dict[str, float]:
    """Best and median wall time (s) of ``repeats`` calls, after one warm-up call (tracing)."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"best": min(times), "median": statistics.median(times)}


def best_seconds(fn, repeats: int) -> float:
    """Best wall time (s) of ``repeats`` calls, after one warm-up call."""
    return time_calls(fn, repeats)["best"]
