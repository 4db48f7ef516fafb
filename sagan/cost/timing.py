"""Timing and CUDA memory of steps measured side by side in one process, and the spread of
interleaved repeats."""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Sequence

import torch

# The order-statistic interval of a median is chosen to cover it at least this often.
MEDIAN_LEVEL = 0.95


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def time_rounds(
    steps: dict[str, Callable[[], None]], repeats: int, warmup: int, device: str
) -> dict[str, list[float]]:
    """Milliseconds of each step in each round; the steps run in turn (A B C A B C ...), so
    entry r of every list was measured in round r, under the same conditions."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            sync(device)
            start = time.perf_counter()
            step()
            sync(device)
            times[name].append((time.perf_counter() - start) * 1e3)
    return times


def time_interleaved(
    steps: dict[str, Callable[[], None]], repeats: int, warmup: int, device: str
) -> dict[str, float]:
    """Median milliseconds per step, the steps run in turn so they share the same conditions."""
    rounds = time_rounds(steps, repeats, warmup, device)
    return {name: statistics.median(ms) for name, ms in rounds.items()}


def median_interval(
    values: Sequence[float], level: float = MEDIAN_LEVEL
) -> tuple[float, float, float]:
    """A distribution-free interval for the median of ``values`` and its coverage: the order
    statistics (x_(k), x_(n+1-k)) with the largest k whose coverage 1 - 2 P(Bin(n, 1/2) < k)
    reaches ``level``. Below 6 values none does, and it is (min, max), covering 1 - 2^(1-n)
    (94% of 5 repeats). NaNs are dropped; none left gives NaNs."""
    x = sorted(v for v in values if not math.isnan(v))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    k = 1
    while k + 1 <= n // 2 and _coverage(n, k + 1) >= level:
        k += 1
    return x[k - 1], x[n - k], _coverage(n, k)


def _coverage(n: int, k: int) -> float:
    """P(x_(k) <= median <= x_(n+1-k)) for n values drawn independently."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def machine_load(before: float, after: float, cores: int) -> dict[str, float | int | bool]:
    """The 1-minute load averages around a measurement and whether the machine was loaded:
    either exceeded the cores. The load average counts the measuring process's own busy
    threads too, so above the cores some thread waited for a core during the timing."""
    return {
        "load_before": round(before, 2),
        "load_after": round(after, 2),
        "cores": cores,
        "loaded": max(before, after) > cores,
    }


def cuda_peak_bytes(step: Callable[[], None], device: str) -> int:
    """Peak CUDA memory allocated by one step above what was allocated before it."""
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step()
    sync(device)
    return torch.cuda.max_memory_allocated(device) - before
