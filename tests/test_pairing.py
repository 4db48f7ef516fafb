"""How well seeds pair two arms: correlation, paired SD, MDE and seeds needed, checked by hand."""

import math

import pandas as pd
import pytest
from scipy import stats

from sagan.report.pairing import pairing


def summary(arm: list[float], baseline: list[float], size: str = "full") -> pd.DataFrame:
    rows = [
        {"dataset": "digits", "size": size, "seed": s, "arm": v, "fd_domain": x}
        for v, xs in (("sagan", arm), ("dcgan", baseline))
        for s, x in enumerate(xs)
    ]
    return pd.DataFrame(rows)


def test_the_paired_sd_correlation_and_mde_match_a_hand_computation():
    base = [1.0, 2.0, 3.0, 4.0]
    arm = [1.1, 2.0, 3.3, 4.0]  # differences 0.1, 0, 0.3, 0
    p = pairing(summary(arm, base), "sagan", "dcgan", "fd_domain")
    diffs = [0.1, 0.0, 0.3, 0.0]
    mean = sum(diffs) / 4
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 3)
    assert p.n == 4 and p.sd_difference == pytest.approx(sd)
    assert p.correlation > 0.99 and p.sd_unpaired > 10 * p.sd_difference
    t = stats.t.ppf(0.975, 3) + stats.t.ppf(0.8, 3)
    assert p.mde_percent() == pytest.approx(100 * t * sd / 2 / 2.5)
    need = p.seeds_for(12.0)
    assert p.mde_percent(need) <= 12.0 < p.mde_percent(need - 1)


def test_independent_arms_have_the_unpaired_spread():
    p = pairing(summary([4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0]), "sagan", "dcgan", "fd_domain")
    assert p.correlation < 0 and p.sd_difference > p.sd_unpaired


def test_one_seed_at_two_sizes_is_refused_as_two_pairs():
    both = pd.concat([summary([1, 2, 3], [1, 2, 3]), summary([1, 2, 3], [1, 2, 3], "500")])
    with pytest.raises(ValueError, match="one seed at two sizes is not two pairs"):
        pairing(both, "sagan", "dcgan", "fd_domain")


def test_too_few_pairs_or_a_missing_arm_is_an_error():
    with pytest.raises(ValueError, match="need at least 3"):
        pairing(summary([1.0, 2.0], [1.0, 2.0]), "sagan", "dcgan", "fd_domain")
    with pytest.raises(ValueError, match="no 'topk'"):
        pairing(summary([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), "topk", "dcgan", "fd_domain")
