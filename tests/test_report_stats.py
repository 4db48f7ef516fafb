"""Statistics over seeds on inputs small enough to check by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sagan.report.stats import (
    cell_stats,
    describe,
    iqm,
    minimum_detectable_effect,
    paired_differences,
    t_interval,
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
    assert t_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_t_interval_is_the_student_t_interval_of_the_mean():
    x = np.array([1.0, 2.0, 6.0])
    expected = stats.t.interval(0.95, 2, loc=x.mean(), scale=stats.sem(x))
    assert t_interval(x) == pytest.approx(expected)  # a level or df off fails
    assert t_interval([1.0, np.nan, 2.0, 6.0]) == pytest.approx(expected)  # NaN dropped
    assert t_interval([-3.0, 1.0, 2.0], lower=0.0)[0] == 0.0  # cut at the metric's floor
    assert math.isnan(t_interval([1.0])[0])


def test_fd_intervals_stop_at_zero_and_gaps_do_not():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "arm": "a",
            "size": "full",
            "seed": [0, 1, 2],
            "fd_domain": [0.1, 0.2, 2.0],
            "fd_domain_gap": [-1.0, 0.0, 0.2],
        }
    )
    cells = cell_stats(runs, ["fd_domain", "fd_domain_gap"]).set_index("metric")
    assert cells.loc["fd_domain", "ci_lo"] == 0.0
    assert cells.loc["fd_domain_gap", "ci_lo"] < -1.0


def test_iqm_trims_the_outer_quartiles():
    assert iqm([1, 2, 3, 4]) == 2.5
    assert iqm([1, 2, 3, 4, 5, 6, 7, 100]) == 4.5  # the outlier is trimmed, unlike the mean
    assert math.isnan(iqm([1, 2, 3]))


def test_cell_stats_is_one_row_per_cell_and_metric_over_done_runs():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "arm": ["a", "a", "a", "b"],
            "size": "full",
            "seed": [0, 1, 2, 0],
            "status": ["done", "done", "diverged", "done"],
            "fd": [1.0, 3.0, np.nan, 7.0],
        }
    )
    cells = cell_stats(runs, ["fd"]).set_index("arm")
    assert cells.loc["a", "n"] == 2 and cells.loc["a", "mean"] == 2.0
    assert cells.loc["b", "n"] == 1 and math.isnan(cells.loc["b", "ci_lo"])


def test_paired_differences_match_seeds_and_orient_better_as_positive():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "size": "full",
            "arm": ["base", "base", "att", "att", "att"],
            "seed": [0, 1, 0, 1, 2],  # seed 2 has no partner
            "fd": [10.0, 20.0, 8.0, 21.0, 1.0],
        }
    )
    pairs = paired_differences(runs, "fd", "att", "base", relative=True)
    assert list(pairs["seed"]) == [0, 1]
    assert pairs["effect"].tolist() == pytest.approx([20.0, -5.0])  # % better than the baseline


def test_iqm_trims_a_quarter_from_each_end_not_a_fifth():
    # 8 values: 25% trims 2 per end (mean of 2, 3, 4, 5); 20% would trim 1 (mean of 1..5, 20)
    assert iqm([0, 1, 2, 3, 4, 5, 20, 100]) == 3.5


def test_minimum_detectable_effect_is_the_paired_t_approximation():
    # n = 4, sd = sqrt(5/3); t_{0.975, 3} = 3.182446, t_{0.80, 3} = 0.978472 (t tables)
    expected = (3.182446 + 0.978472) * math.sqrt(5 / 3) / math.sqrt(4)
    assert minimum_detectable_effect([1.0, 2.0, 3.0, 4.0]) == pytest.approx(expected, rel=1e-6)
    assert minimum_detectable_effect([5.0, 5.0, np.nan, 5.0]) == 0.0
    assert math.isnan(minimum_detectable_effect([1.0]))


def test_only_finished_runs_count_in_cells_and_pairs_even_with_a_finite_value():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "arm": ["a", "a", "a", "b", "b", "b"],
            "size": "full",
            "train_images": [10, 10, 10, 10, 10, 10],
            "seed": [0, 1, 2, 0, 1, 2],
            "status": ["done", "done", "diverged", "done", "done", "done"],
            "fd": [1.0, 3.0, 500.0, 2.0, 2.0, 2.0],  # the diverged run scored, badly
        }
    )
    cells = cell_stats(runs, ["fd"]).set_index("arm")
    assert (cells.loc["a", "n"], cells.loc["a", "mean"]) == (2, 2.0)
    assert cells.loc["a", "train_images"] == 10  # the cell keeps its training-set size
    pairs = paired_differences(runs, "fd", "a", "b")
    assert list(pairs["seed"]) == [0, 1] and pairs["effect"].tolist() == [1.0, -1.0]


def test_paired_differences_orient_by_direction_and_scale_by_the_baselines_size():
    runs = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "size": "full",
            "seed": [0, 0],
            "arm": ["base", "att"],
            "score": [-4.0, -3.0],  # a negative baseline: % of its size, not of its sign
        }
    )
    up = paired_differences(runs, "score", "att", "base", lower_is_better=False)
    assert up["effect"].tolist() == [1.0] and list(up.columns[-3:]) == [
        "arm",
        "baseline",
        "effect",
    ]
    rel = paired_differences(runs, "score", "att", "base", relative=True, lower_is_better=False)
    assert rel["effect"].tolist() == pytest.approx([25.0])


def test_describe_of_nothing_and_of_two_values():
    empty = describe([])
    assert empty["n"] == 0 and math.isnan(empty["mean"]) and math.isnan(empty["ci_lo"])
    two = describe([1.0, 3.0])
    assert two["std"] == pytest.approx(math.sqrt(2)) and math.isnan(two["iqm"])
    assert (two["ci_lo"], two["ci_hi"]) == pytest.approx(stats.t.interval(0.95, 1, 2.0, 1.0))
