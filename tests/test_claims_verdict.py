"""The verdict rule on paired effects whose answer is known: bounded claims, equivalence, MDE."""

import math

import numpy as np
import pytest

from sagan.report.claims import _nearest, claims_table, verdict
from sagan.report.stats import minimum_detectable_effect, paired_test
from sagan.report.tables import to_markdown
from tests.design_claims import design_claims, spec
from tests.test_claims import runs

INF = math.inf


def around(centre: float, n: int = 8, spread: float = 0.5) -> np.ndarray:
    """n paired effects evenly spread over centre +- spread (no ties, no randomness)."""
    return centre + np.linspace(-spread, spread, n)


def test_a_topk_3_percent_better_supports_little_loss():
    assert verdict(around(3.0), (-5, INF))["verdict"] == "supported"
    assert verdict(around(-3.0), (-5, INF))["verdict"] == "supported"  # a loss, but a little one


def test_a_topk_12_percent_worse_contradicts_little_loss():
    assert verdict(around(-12.0), (-5, INF))["verdict"] == "contradicted"


def test_no_loss_shown_is_not_support_for_little_loss():
    assert verdict(around(-4.5, n=8, spread=2.0), (-5, INF))["verdict"] == "inconclusive"


def test_a_claimed_improvement_from_zero_still_needs_the_two_sided_evidence():
    assert verdict(around(3.0), (0, INF))["verdict"] == "supported"
    assert verdict(around(-3.0), (0, INF))["verdict"] == "contradicted"
    # 5 pairs: one-sided p = 1/32 < 0.05 but > 0.025, as two-sided 2/32 > 0.05 was
    assert verdict(around(3.0, n=5), (0, INF))["verdict"] == "inconclusive"


def test_a_range_from_zero_is_supported_exactly_when_the_old_rule_said_so():
    rng = np.random.default_rng(3)
    supported = 0
    for _ in range(60):
        d = rng.normal(rng.uniform(-1, 2), 1.0, size=rng.integers(3, 11))
        out = verdict(d, (0, INF))
        old = out["p"] < 0.05 and d.mean() > 0 and out["ci_hi"] >= 0
        assert (out["verdict"] == "supported") == old
        supported += old
    assert 5 < supported < 55  # both answers occur


def test_a_range_below_zero_claims_the_negative_side():
    assert verdict(around(-15.0), (-18, -12))["verdict"] == "supported"
    assert verdict(around(15.0), (-18, -12))["verdict"] == "contradicted"


def test_contradicted_needs_the_paired_test_not_only_the_interval():
    out = verdict([2.0, 2.1, 1.9, 2.05], (12, 18))
    assert out["verdict"] == "inconclusive" and out["p"] == 0.125  # 4 pairs: 2 of 16 patterns
    assert out["ci_hi"] < 12  # the CI alone would have called it


def test_contradiction_is_tested_against_the_bound_the_mean_lies_beyond():
    assert _nearest((12, 18), 30.0) == 18 and _nearest((12, 18), 2.0) == 12
    assert _nearest((-INF, 2), 20.0) == 2 and _nearest((-5, INF), -12.0) == -5
    # "no more than 2 better": 20 better is contradicted only by the test against the upper bound
    assert verdict(around(20.0), (-INF, 2))["verdict"] == "contradicted"


def test_an_effect_shown_within_the_sesoi_is_equivalent():
    out = verdict(around(0.5, spread=1.0), (0, INF), sesoi=5.0)
    assert out["verdict"] == "equivalent"
    assert out["note"] == "equivalent: no effect larger than ±5 at this scale"
    assert verdict(around(0.5, spread=1.0), (0, INF))["verdict"] == "inconclusive"  # no sesoi


def test_equivalence_needs_both_one_sided_tests():
    d = around(0.5, spread=1.0)
    assert paired_test(d + 5, "greater")[1] < 0.05 and paired_test(d - 5, "less")[1] < 0.05
    assert verdict(around(4.0, spread=3.0), (0, INF), sesoi=5.0)["verdict"] != "equivalent"
    assert verdict(around(0.5, n=4), (0, INF), sesoi=5.0)["verdict"] == "inconclusive"  # 1/16


def test_supported_and_contradicted_come_before_equivalent():
    assert verdict(around(3.0), (0, INF), sesoi=5.0)["verdict"] == "supported"
    assert verdict(around(1.0), (12, 18), sesoi=5.0)["verdict"] == "contradicted"


def test_each_paired_row_has_its_minimum_detectable_effect_in_the_table():
    d = around(3.0, spread=2.0)
    assert verdict(d, (0, INF))["mde"] == pytest.approx(minimum_detectable_effect(d))
    claims = design_claims(runs(15.0, spread=0.5)).set_index("claim")
    one = claims.loc[spec("1").label]
    assert one["mde"] > 0 and one["sesoi"] == 5.0
    table = claims_table(claims.reset_index())
    assert table.text.loc[0, "MDE (effect's unit)"] == f"{one['mde']:.3g}"
    assert "MDE (effect's unit)" in to_markdown(table)


def test_no_change_of_multiscale_reads_equivalent_in_the_design_claims():
    rows = runs(0.0, spread=0.5)
    rows["variant"] = rows["variant"].map({"dcgan": "sagan", "sagan": "multiscale"})
    claims = design_claims(rows).set_index("claim")
    five_b = claims.loc[spec("5b").label]
    assert five_b["verdict"] == "equivalent" and "±5 at this scale" in five_b["note"]
