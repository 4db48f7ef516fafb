"""Statistics over seeds: mean, std, n, the 95% CI and the IQM per cell, and paired tests
across seeds. Pure functions over numbers and DataFrames.

Conventions:
- The seed is the unit: one value per seed (a cluster), never one per run of a seed.
- std is the sample standard deviation (ddof=1); NaN for n = 1.
- The CI is the Student-t 95% interval of the mean over seeds (``t_interval``), the one
  interval of tables, figures and claims. A bootstrap of 3-10 seeds is too narrow: BCa covers
  about 72% at n = 3 (tests/test_interval_coverage.py measures both). n = 1 gives NaN (no
  spread), a constant sample gives [x, x]. A metric that cannot be negative (an FD) has its
  interval cut at 0 (``NONNEGATIVE``): the true value lies there too.
- IQM is the mean of the middle 50% of the sorted values (scipy.stats.trim_mean at 25%);
  below 4 values no quartile can be trimmed, so it is NaN rather than a disguised mean.
- Paired tests are nonparametric: the exact Wilcoxon signed-rank test from 6 pairs, an exact
  sign-flip permutation test below; two-sided, or one-sided with ``alternative``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

CELL = ["study", "dataset", "variant", "size"]
CONFIDENCE = 0.95
PERMUTATION_SEED = 2019
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
    """One tidy row per (study, dataset, variant, size, metric) over the seeds of done runs."""
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
    variant: str,
    baseline: str,
    *,
    relative: bool = False,
    lower_is_better: bool = True,
) -> pd.DataFrame:
    """variant minus baseline over runs that share (study, dataset, size, seed), oriented so
    that a positive number means the variant is better (or, for ``relative``, better by that
    percentage of the baseline). Columns: the keys, ``variant``, ``baseline``, ``effect``."""
    keys = ["study", "dataset", "size", "seed"]
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    a = done[done["variant"] == variant].set_index(keys)[metric].rename("variant")
    b = done[done["variant"] == baseline].set_index(keys)[metric].rename("baseline")
    pairs = pd.concat([a, b], axis=1, join="inner").dropna().reset_index()
    diff = pairs["variant"] - pairs["baseline"]
    if lower_is_better:
        diff = -diff
    pairs["effect"] = 100 * diff / pairs["baseline"].abs() if relative else diff
    return pairs


EXACT_MAX_N = 16  # 2^16 sign patterns: exact enumeration stays cheap
ALTERNATIVES = ("two-sided", "greater", "less")


def sign_flip_test(
    d: Sequence[float], seed: int = PERMUTATION_SEED, alternative: str = "two-sided"
) -> float:
    """Permutation test of mean(d) = 0 by flipping signs (exact up to 16 pairs, else 20,000
    random flips with a fixed RNG). Makes no normality assumption. ``alternative``: the
    hypothesis against 0, "two-sided", "greater" (mean > 0) or "less" (mean < 0)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    d = np.asarray(d, dtype=float)
    if len(d) <= EXACT_MAX_N:
        signs = np.array(list(itertools.product((1, -1), repeat=len(d))))  # (2^n, n)
    else:
        signs = np.random.default_rng(seed).choice((1, -1), size=(20_000, len(d)))
    means, observed = (signs * d).mean(axis=1), d.mean()
    if alternative == "greater":
        return float(np.mean(means >= observed - 1e-12))
    if alternative == "less":
        return float(np.mean(means <= observed + 1e-12))
    return float(np.mean(np.abs(means) >= abs(observed) - 1e-12))


WILCOXON_MIN_N = 6  # below 6 pairs the exact signed-rank test cannot reach p < 0.05


def paired_test(d: Sequence[float], alternative: str = "two-sided") -> tuple[str, float]:
    """(test name, p) for paired differences ``d`` against 0: Wilcoxon signed-rank (exact)
    from 6 pairs, an exact sign-flip permutation test below, none below 2. ``alternative``
    as for ``sign_flip_test`` (one-sided: the test of d - c against 0 rejects "mean <= c")."""
    d = np.asarray([v for v in d if np.isfinite(v)], dtype=float)
    if len(d) < 2:
        return "none (n < 2)", math.nan
    if np.all(d == 0):
        return "none (all differences 0)", 1.0
    if len(d) >= WILCOXON_MIN_N:
        return "Wilcoxon signed-rank", float(stats.wilcoxon(d, alternative=alternative).pvalue)
    return "sign-flip permutation", sign_flip_test(d, alternative=alternative)


def minimum_detectable_effect(
    d: Sequence[float], alpha: float = 0.05, power: float = 0.80
) -> float:
    """The smallest true mean effect a paired test at two-sided ``alpha`` detects with
    ``power``, for the n and the sample SD of the paired differences ``d`` (in their unit).

    This is the paired-t approximation (t_{1-alpha/2, n-1} + t_{power, n-1}) * sd / sqrt(n);
    the verdicts' rank tests have a little less power than the t-test at normal data (and
    cannot reach two-sided p < 0.05 below 6 pairs at all). NaN for n < 2."""
    x = np.asarray([v for v in d if np.isfinite(v)], dtype=float)
    n = len(x)
    if n < 2:
        return math.nan
    t = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
    return float(t * x.std(ddof=1) / math.sqrt(n))
