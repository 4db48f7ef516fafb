"""Statistics over seeds on inputs small enough to check by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from sagan.report.stats import (
    bootstrap_ci,
    cell_stats,
    describe,
    iqm,
    paired_differences,
    paired_test,
    sign_flip_test,
)


def test_mean_std_n_of_one_two_three():
    d = describe([1.0, 2.0, 3.0])
    assert (d["n"], d["mean"], d["std"]) == (3, 2.0, 1.0)
    assert math.isnan(d["iqm"])  # below 4 values nothing can be trimmed


def test_one_seed_has_no_spread_and_no_interval():
    d = describe([5.0])
    assert d["n"] == 1 and d["mean"] == 5.0
    assert math.isnan(d["std"]) and math.isnan(d["ci_lo"]) and math.isnan(d["ci_hi"])


def test_constant_sample_has_a_zero_width_interval():
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_bootstrap_ci_contains_the_mean_and_is_reproducible():
    x = np.random.default_rng(0).normal(10, 1, size=12)
    lo, hi = bootstrap_ci(x)
    assert lo < x.mean() < hi and hi - lo < 2.5
    assert bootstrap_ci(x) == (lo, hi)  # the fixed RNG: a table regenerates byte for byte
    assert bootstrap_ci(x, seed=1) != (lo, hi)


def test_iqm_trims_the_outer_quartiles():
    assert iqm([1, 2, 3, 4]) == 2.5
    assert iqm([1, 2, 3, 4, 5, 6, 7, 100]) == 4.5  # the outlier is trimmed, unlike the mean
    assert math.isnan(iqm([1, 2, 3]))


def test_cell_stats_is_one_row_per_cell_and_metric_over_done_runs():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "variant": ["a", "a", "a", "b"],
            "size": "full",
            "seed": [0, 1, 2, 0],
            "status": ["done", "done", "diverged", "done"],
            "fd": [1.0, 3.0, np.nan, 7.0],
        }
    )
    cells = cell_stats(runs, ["fd"]).set_index("variant")
    assert cells.loc["a", "n"] == 2 and cells.loc["a", "mean"] == 2.0
    assert cells.loc["b", "n"] == 1 and math.isnan(cells.loc["b", "ci_lo"])


def test_paired_differences_match_seeds_and_orient_better_as_positive():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "size": "full",
            "variant": ["base", "base", "att", "att", "att"],
            "seed": [0, 1, 0, 1, 2],  # seed 2 has no partner
            "fd": [10.0, 20.0, 8.0, 21.0, 1.0],
        }
    )
    pairs = paired_differences(runs, "fd", "att", "base", relative=True)
    assert list(pairs["seed"]) == [0, 1]
    assert pairs["effect"].tolist() == pytest.approx([20.0, -5.0])  # % better than the baseline


def test_paired_test_picks_wilcoxon_from_six_pairs_and_sign_flips_below():
    assert paired_test([1.0, 2.0, 3.0])[0] == "sign-flip permutation"
    name, p = paired_test([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert name == "Wilcoxon signed-rank" and p == pytest.approx(2 / 2**7)
    assert sign_flip_test([1.0, 1.0, 1.0, 1.0]) == 2 / 16  # all + or all -
    assert math.isnan(paired_test([1.0])[1])
