"""Statistics over seeds: mean, std, n, the 95% CI and the IQM per cell, paired differences
across seeds, and the MDE. Pure functions over numbers and DataFrames.

Conventions:
- The seed is the unit: one value per seed (a cluster), never one per run of a seed.
- std is the sample standard deviation (ddof=1); NaN for n = 1.
- The CI is the Student-t 95% interval of the mean over seeds (``t_interval``), the one
  interval of tables, figures and claims. A bootstrap of 3-10 seeds is too narrow: BCa
  covers about 72% at n = 3, a percentile bootstrap under 85%
  (tests/test_interval_coverage.py). n = 1 gives NaN (no spread), a constant sample gives
  [x, x]. A metric that cannot be negative (an FD) has its
  interval cut at 0 (``NONNEGATIVE``): the true value lies there too.
- IQM is the mean of the middle 50% of the sorted values (scipy.stats.trim_mean at 25%);
  below 4 values no quartile can be trimmed, so it is NaN rather than a disguised mean.
- The claims' tests are one-sample t-tests on seed clusters (``sagan.report.verdict_rules``),
  the duals of this interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

CELL = ["study", "dataset", "arm", "size"]
CONFIDENCE = 0.95
IQM_MIN_N = 4


def t_interval(
    values: Sequence[float], confidence: float = CONFIDENCE, lower: float | None = None
) -> tuple[float, float]:
    """The Student-t CI of the mean of the finite ``values`` (one per seed), cut at ``lower``
    where the metric cannot go below it. NaN for n < 2; [x, x] for a constant sample."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    lo, hi = float(x.mean() - half), float(x.mean() + half)
    return (lo if lower is None else max(lo, lower)), hi


# metric families that cannot be negative (a distance): their intervals stop at 0
NONNEGATIVE = ("fd",)


def lower_bound(metric: str) -> float | None:
    """0 for a metric that cannot be negative (an FD, not its gap), else None."""
    from sagan.metrics.declared import resolve

    found = resolve(metric)
    if found is None or found.declaration.family not in NONNEGATIVE:
        return None
    return None if found.declaration.tail == "gap" else 0.0


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle 50%; NaN below 4 finite values."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) < IQM_MIN_N:
        return math.nan
    return float(stats.trim_mean(x, 0.25))


STAT_COLUMNS = ["n", "mean", "std", "ci_lo", "ci_hi", "iqm"]  # what describe() returns


def describe(values: Sequence[float], lower: float | None = None) -> dict[str, float]:
    """n, mean, std, ci_lo, ci_hi (``t_interval``, cut at ``lower``) and iqm of the finite
    values."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    lo, hi = t_interval(x, lower=lower)
    return {
        "n": len(x),
        "mean": float(x.mean()) if len(x) else math.nan,
        "std": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
        "ci_lo": lo,
        "ci_hi": hi,
        "iqm": iqm(x),
    }


def cell_stats(summary: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """One tidy row per (study, dataset, arm, size, metric) over the seeds of done runs."""
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    keys = CELL + (["train_images"] if "train_images" in done else [])
    rows = []
    for cell, runs in done.groupby(keys, sort=False, dropna=False):
        for metric in metrics:
            values = pd.to_numeric(runs[metric], errors="coerce").dropna()
            if len(values):
                rows.append({**dict(zip(keys, cell, strict=True)), "metric": metric})
                rows[-1] |= describe(values.to_numpy(), lower_bound(metric))
    # no finished run (all diverged): an empty table that still has its columns
    return pd.DataFrame(rows, columns=[*keys, "metric", *STAT_COLUMNS])


def numeric_metrics(summary: pd.DataFrame) -> list[str]:
    """Every numeric column that is a result, not an id or a bookkeeping field."""
    # the run checks' flags are counted per arm in the tables, not averaged
    skip = {"seed", "diverged_at", "num_samples", "reason", "converged", "collapsed"}
    return [
        c
        for c in summary.columns
        if c not in skip and c not in CELL and pd.api.types.is_numeric_dtype(summary[c])
    ]


def paired_differences(
    summary: pd.DataFrame,
    metric: str,
    arm: str,
    baseline: str,
    *,
    relative: bool = False,
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """``arm`` minus ``baseline`` (two arms) over runs that share (study, dataset, size,
    seed), oriented so that a positive number means the arm is better (or, for ``relative``,
    better by that percentage of the baseline). Columns: the keys, ``arm`` (its metric),
    ``baseline``, ``effect``."""
    keys = ["study", "dataset", "size", "seed"]
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    a = done[done["arm"] == arm].set_index(keys)[metric].rename("arm")
    b = done[done["arm"] == baseline].set_index(keys)[metric].rename("baseline")
    pairs = pd.concat([a, b], axis=1, join="inner").dropna().reset_index()
    diff = pairs["arm"] - pairs["baseline"]
    if lower_is_better:
        diff = -diff
    pairs["effect"] = 100 * diff / pairs["baseline"].abs() if relative else diff
    return pairs


def minimum_detectable_effect(
    d: Sequence[float], alpha: float = 0.05, power: float = 0.80
) -> float:
    """The smallest true mean effect a paired test at two-sided ``alpha`` detects with
    ``power``, for the n and the sample SD of the paired differences ``d`` (in their unit).

    This is the paired-t approximation (t_{1-alpha/2, n-1} + t_{power, n-1}) * sd / sqrt(n),
    for the t-tests the verdicts run. NaN for n < 2."""
    x = np.asarray([v for v in d if np.isfinite(v)], dtype=float)
    n = len(x)
    if n < 2:
        return math.nan
    t = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
    return float(t * x.std(ddof=1) / math.sqrt(n))
