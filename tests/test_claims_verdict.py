"""The verdict words, one rule each (docs/claims-and-statistics.md, "Verdict rules"), on
seed-cluster values whose answer is known, and the table's columns that show how a row was
decided."""

import math

import numpy as np
import pytest
from scipy import stats

from sagan.report.claims import claims_table
from sagan.report.stats import minimum_detectable_effect
from sagan.report.tables import to_markdown
from sagan.report.verdict_rules import (
    EQUIVALENT,
    INCONCLUSIVE,
    INSIDE,
    LARGER,
    OPPOSITE,
    SMALLER,
    SMALLER_SAME,
    UNTESTABLE,
    interval_verdict,
    judge,
    needed_seeds,
)
from tests.design_claims import design_claims, spec
from tests.test_claims import runs

INF = math.inf


def around(centre: float, n: int = 5, spread: float = 0.5) -> np.ndarray:
    """n cluster values evenly spread over centre +- spread (no randomness)."""
    return centre + np.linspace(-spread, spread, n)


def test_inside_needs_every_finite_bound_rejected():
    j = judge(around(15.0), (12, 18))
    assert j.verdict == INSIDE and j.test == "mean > 12 and mean < 18"
    p_low = stats.ttest_1samp(around(15.0), 12, alternative="greater").pvalue
    p_high = stats.ttest_1samp(around(15.0), 18, alternative="less").pvalue
    assert j.p == pytest.approx(max(p_low, p_high))  # intersection-union: the larger p
    assert judge(around(17.5, spread=2), (12, 18)).verdict == INCONCLUSIVE  # touches 18


def test_larger_than_claimed_lies_beyond_the_far_bound():
    j = judge(around(30.0), (12, 18))
    assert (j.verdict, j.test) == (LARGER, "mean > 18")


def test_equivalent_needs_both_sides_of_the_margin():
    j = judge(around(0.5, spread=1.0), (0, INF), margin=5.0)
    assert (j.verdict, j.test) == (EQUIVALENT, "mean > -5 and mean < 5")
    assert judge(around(0.5, spread=1.0), (0, INF)).verdict == INCONCLUSIVE  # no margin
    assert judge(around(4.0, spread=3.0), (0, INF), margin=5.0).verdict != EQUIVALENT


def test_opposite_is_a_directional_claim_shown_on_the_other_side_of_zero():
    assert judge(around(-15.0), (12, 18), margin=5.0).verdict == OPPOSITE
    assert judge(around(15.0), (-18, -12)).verdict == OPPOSITE  # a claimed decrease, mirrored
    assert judge(around(-15.0), (-18, -12)).verdict == INSIDE


def test_smaller_same_direction_is_below_the_near_bound_and_above_zero():
    j = judge(around(6.0), (12, 18), margin=5.0)
    assert (j.verdict, j.test) == (SMALLER_SAME, "mean < 12 and mean > 0")


def test_smaller_than_claimed_without_a_direction():
    # below the near bound, its sign unknown
    assert judge(around(2.0, spread=6.0), (12, 18)).verdict == SMALLER
    # a range holding 0 ("no worse than -5") has no direction: far below it is "smaller"
    assert judge(around(-12.0), (-5, INF)).verdict == SMALLER
    assert judge(around(-3.0), (-5, INF)).verdict == INSIDE  # a loss, but a little one


def test_inside_comes_before_equivalent_and_equivalent_before_smaller():
    assert judge(around(3.0), (0, INF), margin=5.0).verdict == INSIDE
    assert judge(around(1.0), (12, 18), margin=5.0).verdict == EQUIVALENT


def test_inconclusive_names_the_test_that_came_nearest():
    j = judge(around(10.0, spread=15.0), (12, 18), margin=5.0)
    assert j.verdict == INCONCLUSIVE
    assert j.p == min(p for _, _, p in j.ranked) and j.test


def test_one_cluster_decides_nothing():
    j = judge([15.0], (12, 18))
    assert j.verdict == INCONCLUSIVE and j.n == 1 and math.isnan(j.p)


def test_a_floor_above_the_margin_tests_zero_as_the_floor_and_no_equivalence():
    # an effect of 3 +- 0.5 is above 0, but not above a floor of 8: untestable here
    j = judge(around(3.0), (0, INF), margin=5.0, floor=8.0)
    assert j.verdict == UNTESTABLE and "mean > 8" in j.tests
    assert judge(around(30.0), (0, INF), margin=5.0, floor=8.0).verdict == INSIDE
    assert judge(around(0.0), (0, INF), margin=5.0, floor=8.0).verdict == UNTESTABLE
    # a claimed range beyond the floor is still told apart
    assert judge(around(2.0), (12, 18), margin=5.0, floor=8.0).verdict == SMALLER


def test_every_test_of_a_row_is_kept_with_its_p():
    j = judge(around(15.0), (12, 18), margin=5.0)
    assert set(j.tests) == {"mean > 12", "mean < 18", "mean > 18", "mean > -5", "mean < 5",
                            "mean < 0", "mean < 12", "mean > 0"}  # fmt: skip
    assert j.p_zero == pytest.approx(stats.ttest_1samp(around(15.0), 0).pvalue)


def test_a_profile_interval_reads_the_same_words():
    assert interval_verdict(35, 45, (30, 50)) == INSIDE
    assert interval_verdict(55, 70, (30, 50)) == LARGER
    assert interval_verdict(25, 45, (30, 50)) == INCONCLUSIVE


def test_mde_and_the_seeds_that_would_detect_the_claim():
    d = around(3.0, spread=2.0)
    assert judge(d, (0, INF)).mde == pytest.approx(minimum_detectable_effect(d))
    n = needed_seeds(d, 1.0)
    t = stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)
    assert t * d.std(ddof=1) / math.sqrt(n) <= 1.0
    t = stats.t.ppf(0.975, n - 2) + stats.t.ppf(0.8, n - 2)
    assert t * d.std(ddof=1) / math.sqrt(n - 1) > 1.0  # the fewest that do


def test_the_table_shows_the_deciding_test_its_holm_p_and_clusters_as_n():
    claims = design_claims(runs(15.0, spread=0.5))
    one = claims[claims["claim"] == spec("1").label].iloc[0]
    table = claims_table(claims).text
    row = table[table["claim"] == spec("1").label].iloc[0]
    assert row["n"] == "4 seeds (4 pairs)"
    assert row["deciding test"].startswith(f"{one['test']}: p = {one['p']:.3g}, Holm p = ")
    assert row["margin"].startswith("±5 (5 % of the baseline)")
    assert "Holm" in to_markdown(claims_table(claims))


def test_a_claims_direction_is_the_side_of_zero_its_range_lies_on():
    from sagan.report.verdict_rules import direction

    assert [direction(r) for r in [(0, INF), (12, 18), (-INF, 0), (-18, -12), (-5, INF)]] == [
        1, 1, -1, -1, 0,
    ]  # fmt: skip


def test_the_candidates_of_each_kind_of_range_in_order():
    from sagan.report.verdict_rules import candidates

    def words(claimed, margin=5.0):
        return [w for w, _ in candidates(claimed, margin)]

    assert words((0, INF)) == [INSIDE, EQUIVALENT, OPPOSITE]
    assert words((0, INF), margin=0.0) == [INSIDE, OPPOSITE]  # no margin, no equivalence
    assert words((12, 18)) == [INSIDE, LARGER, EQUIVALENT, OPPOSITE, SMALLER_SAME, SMALLER]
    assert words((-5, INF)) == [INSIDE, EQUIVALENT, SMALLER]
    assert words((-INF, 5)) == [INSIDE, LARGER, EQUIVALENT]
    assert judge(around(-15.0), (0, INF)).verdict == OPPOSITE  # [0, inf] points up


def test_a_sample_without_spread_is_certain_about_its_side():
    from sagan.report.verdict_rules import Bound, one_sided_p

    x = np.array([5.0, 5.0, 5.0])
    assert one_sided_p(x, Bound(3.0, "greater")) == 0.0
    assert one_sided_p(x, Bound(3.0, "less")) == 1.0
    assert one_sided_p(x, Bound(7.0, "less")) == 0.0
    assert one_sided_p(x, Bound(5.0, "greater")) == 1.0  # at the bound is not beyond it
    assert judge([0.0, 0.0], (0, INF)).p_zero == 1.0 and judge([2.0, 2.0], (0, INF)).p_zero == 0
    with pytest.raises(ValueError, match="side"):
        Bound(1.0, "LESS")


def test_one_seed_and_no_seed():
    one = judge([15.0], (12, 18))
    assert one.test.startswith("none: one seed") and one.mean == 15.0 and math.isnan(one.mde)
    assert judge([], (12, 18)).verdict == "not measured in this study"


def test_a_bound_at_the_floor_is_still_tried():
    # the floor at 12: the claimed bound 12 is not nearer 0 than the floor
    assert judge(around(2.0), (12, 18), margin=5.0, floor=12.0).verdict == SMALLER
    assert judge(around(2.0), (12, 18), margin=5.0, floor=12.5).verdict == UNTESTABLE


def test_seeds_needed_edges():
    assert needed_seeds([1.0, 2.0], 0.0) is None and needed_seeds([1.0, 1.0], 1.0) is None
    assert needed_seeds([1.0], 1.0) is None and needed_seeds([1.0, 2.0], math.inf) is None
    assert needed_seeds([1.0, 1.1], 100.0) == 2  # a huge effect: two seeds already do


def test_an_interval_at_a_bound_does_not_reject_it():
    assert interval_verdict(30.0, 45.0, (30, 50)) == INCONCLUSIVE
    assert interval_verdict(math.nan, 45.0, (30, 50)) == INCONCLUSIVE


def test_small_margins_and_ranges_below_one_are_still_margins_and_ranges():
    # sub-unit numbers are common: fractions of images, accuracy points
    assert judge(around(0.01, spread=0.02), (0, INF), margin=0.05).verdict == EQUIVALENT
    assert judge(around(0.2, spread=0.05), (0.5, 0.8), margin=0.05).verdict == SMALLER_SAME
    # a bound of 0.5 nearer 0 than a floor of 0.8 is not tried
    assert judge(around(0.2, spread=0.05), (0.5, 0.8), margin=0.05, floor=0.8).verdict == (
        UNTESTABLE
    )
    assert interval_verdict(-0.01, 0.01, (0, INF), margin=0.05) == EQUIVALENT
