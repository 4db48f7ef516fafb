"""How well a seed pairs two arms, and what that buys: the correlation of their final scores
over seeds, the SD of the paired difference, and the minimum detectable effect (MDE) and the
seeds needed at that SD.

The MDE is the usual two-sided one-sample (paired) t-test's: the smallest true mean difference
found with probability ``power`` at level ``alpha``, (t_{1-alpha/2, n-1} + t_{power, n-1}) x
SD / sqrt(n), as a percentage of the baseline's mean. It assumes the SD measured here is the
true one: with few seeds, read it as a planning number, not a guarantee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

PAIR_KEYS = ["dataset", "size", "seed"]


@dataclass(frozen=True)
class Pairing:
    n: int  # seed pairs
    baseline_mean: float
    correlation: float  # Pearson's r of the two arms' scores over pairs
    sd_difference: float  # SD of (arm - baseline) over pairs
    sd_unpaired: float  # what the difference's SD would be with independent draws

    def mde_percent(self, n: int | None = None, alpha: float = 0.05, power: float = 0.8) -> float:
        """The smallest true paired difference, in % of the baseline's mean, detected with
        ``power`` by a two-sided paired t-test over ``n`` seeds (default: this study's)."""
        n = n or self.n
        if n < 2 or not self.baseline_mean:
            return math.nan
        t = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
        return 100 * t * self.sd_difference / math.sqrt(n) / abs(self.baseline_mean)

    def seeds_for(self, effect_percent: float, limit: int = 1000, **kw: float) -> int | None:
        """The fewest seeds whose MDE is at most ``effect_percent`` (None: above ``limit``)."""
        for n in range(2, limit + 1):
            if self.mde_percent(n, **kw) <= effect_percent:
                return n
        return None


def pairing(summary: pd.DataFrame, arm: str, baseline: str, metric: str) -> Pairing:
    """The arms' final ``metric`` paired by seed within one (dataset, size) cell of a study's
    summary: runs of one seed at nested sizes are one unit, not two pairs. An older summary
    is upgraded when read (``sagan.report.outputs.upgrade_arm_columns``)."""
    rows = summary[summary["arm"].isin([arm, baseline])]
    cells = rows[["dataset", "size"]].astype(str).drop_duplicates()
    if len(cells) > 1:
        found = ", ".join(f"{d}/{s}" for d, s in cells.itertuples(index=False))
        raise ValueError(
            f"the runs span several (dataset, size) cells ({found}); pick one: the seed is "
            "the unit, and one seed at two sizes is not two pairs"
        )
    wide = rows.pivot_table(index=PAIR_KEYS, columns="arm", values=metric, aggfunc="first")
    if arm not in wide or baseline not in wide:
        raise ValueError(f"the summary has no {arm!r} and {baseline!r} runs to pair")
    wide = wide[[arm, baseline]].dropna()
    if len(wide) < 3:
        raise ValueError(f"{len(wide)} pairs of {arm!r} and {baseline!r}: need at least 3")
    a, b = wide[arm].to_numpy(float), wide[baseline].to_numpy(float)
    return Pairing(
        n=len(wide),
        baseline_mean=float(b.mean()),
        correlation=float(np.corrcoef(a, b)[0, 1]),
        sd_difference=float(np.std(a - b, ddof=1)),
        sd_unpaired=float(math.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))),
    )
