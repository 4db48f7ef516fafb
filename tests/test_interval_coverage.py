"""The one interval of tables, figures and claims covers the true mean at its nominal level
for the few seeds a GAN study has (3, 5, 10), where a bootstrap does not."""

import numpy as np
import pytest
from scipy import stats

from sagan.report.stats import describe

STUDIES = 4000  # Monte Carlo SE of a 95% coverage: 0.34 points


def _coverage(n: int, interval) -> float:
    x = np.random.default_rng(n).normal(10.0, 2.0, size=(STUDIES, n))
    hits = 0
    for row in x:
        lo, hi = interval(row)
        hits += lo <= 10.0 <= hi
    return hits / STUDIES


@pytest.mark.parametrize("n", [3, 5, 10])
def test_table_intervals_cover_at_least_93_percent_of_normal_clusters(n):
    def table_ci(row):
        d = describe(row)
        return d["ci_lo"], d["ci_hi"]

    rate = _coverage(n, table_ci)
    print(f"coverage at n = {n}: {rate:.3f}")
    assert rate >= 0.93


def test_a_percentile_bootstrap_of_three_seeds_is_too_narrow():
    # why the tables left the bootstrap: the same check fails it at n = 3
    def percentile(row):
        means = np.random.default_rng(0).choice(row, size=(400, len(row))).mean(axis=1)
        return tuple(np.percentile(means, [2.5, 97.5]))

    assert _coverage(3, percentile) < 0.85
    assert stats.t.ppf(0.975, 2) > 4  # the t quantile the bootstrap cannot reproduce
