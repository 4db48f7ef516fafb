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
# Fewest interleaved rounds whose interval of the median at MEDIAN_LEVEL leaves out the
# smallest and the largest round, (x_(2), x_(n-1)): 96.1% at 9 rounds, 93.0% at 8. With fewer,
# only (min, max) reaches 95% (6-8 rounds; below 6, nothing does), so one wild round would set
# a bound: `median_interval` gives none, and a verdict waits for more rounds.
MIN_ROUNDS = 9


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
    statistics (x_(k), x_(n+1-k)) with the largest k >= 2 whose coverage
    1 - 2 P(Bin(n, 1/2) < k) reaches ``level``.

    Why order statistics: rounds interleave, so each is one draw of the per-round ratio, and
    the ranks of all n of them place the median whatever the draws' distribution (a timing
    distribution is skewed, with rare stalls); no mean or spread enters, so a round 10x slow
    is one rank, never a bound. Why k >= 2: with k = 1 (min, max) that one round is the bound.
    None reaching ``level`` with k >= 2 (below MIN_ROUNDS at 95%): NaNs, as for no values.
    NaNs are dropped."""
    x = sorted(v for v in values if not math.isnan(v))
    n = len(x)
    if n < 4 or _coverage(n, 2) < level:
        return math.nan, math.nan, math.nan
    k = 2
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


# Other processes busy on more than this share of the cores during a timing: "loaded"
OTHER_WORK_SHARE = 0.1


def machine_load(
    before: float, after: float, cores: int, other_cores: float | None = None
) -> dict[str, float | int | bool]:
    """The 1-minute load averages around a measurement, the cores that other processes kept
    busy during it (``other_cores``, from OtherWork), and whether the machine was loaded.

    With ``other_cores`` the verdict is that: more than 10% of the cores busy with other work.
    The load average lingers for minutes after other jobs end (a profile that follows training
    jobs reads as loaded), so it decides only where the CPU time was not readable (no
    /proc/stat): either average above the cores."""
    loaded = (
        other_cores > OTHER_WORK_SHARE * cores
        if other_cores is not None
        else max(before, after) > cores
    )
    return {
        "load_before": round(before, 2),
        "load_after": round(after, 2),
        "cores": cores,
        "other_cores": round(other_cores, 2) if other_cores is not None else math.nan,
        "loaded": loaded,
    }


def busy_cpu_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user)
    ticks = [int(v) for v in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


class OtherWork:
    """Cores kept busy by other processes while the block ran: the machine's busy CPU time
    less this process's own, over the wall time (``cores``; None without /proc/stat)."""

    cores: float | None = None

    def __enter__(self) -> OtherWork:
        self._start = (busy_cpu_seconds(), time.process_time(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        busy0, own0, wall0 = self._start
        busy, own, wall = busy_cpu_seconds(), time.process_time(), time.perf_counter()
        if busy0 is None or busy is None or wall <= wall0:
            return
        self.cores = max(0.0, (busy - busy0) - (own - own0)) / (wall - wall0)


def cuda_peak_bytes(step: Callable[[], None], device: str) -> int:
    """Peak CUDA memory allocated by one step above what was allocated before it."""
    sync(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    step()
    sync(device)
    return torch.cuda.max_memory_allocated(device) - before
