"""The interval of a profile's median per-round ratio: every round ranks, no single round
bounds it, it covers at its stated rate, and it needs MIN_ROUNDS rounds to exist."""

import math

import numpy as np
import pytest

from sagan.cost.timing import MEDIAN_LEVEL, MIN_ROUNDS, _coverage, median_interval

TRUE_RATIO = 1.4  # sagan's step over dcgan's, say


def lognormal_rounds(rng: np.random.Generator, n: int, spread: float = 0.05) -> np.ndarray:
    """Per-round ratios arm / baseline: a drift shared by both arms in each round (it cancels)
    and each arm's own lognormal jitter (it does not)."""
    drift = rng.lognormal(0.0, 0.3, n)
    arm = TRUE_RATIO * drift * rng.lognormal(0.0, spread, n)
    base = drift * rng.lognormal(0.0, spread, n)
    return arm / base


def test_min_rounds_is_the_fewest_whose_interval_leaves_out_min_and_max():
    assert _coverage(MIN_ROUNDS, 2) >= MEDIAN_LEVEL > _coverage(MIN_ROUNDS - 1, 2)
    assert math.isnan(median_interval(range(MIN_ROUNDS - 1))[0])
    assert median_interval(range(MIN_ROUNDS))[:2] == (1, MIN_ROUNDS - 2)


@pytest.mark.parametrize("rounds", [MIN_ROUNDS, 15, 25])
def test_one_wild_round_barely_moves_the_interval_where_min_max_would_follow_it(rounds):
    ratios = lognormal_rounds(np.random.default_rng(rounds), rounds)
    wild = ratios.copy()
    wild[3] *= 10  # one round in which the arm stalled
    lo, hi, _ = median_interval(ratios)
    wild_lo, wild_hi, _ = median_interval(wild)
    # the wild round only moves up a rank: each bound stays among the clean rounds, near
    # where it was, while the old min-max interval's upper bound would be the wild round
    assert min(ratios) <= wild_lo <= wild_hi <= max(ratios)
    assert abs(wild_lo - lo) < 0.2 * TRUE_RATIO and abs(wild_hi - hi) < 0.2 * TRUE_RATIO
    assert max(wild) - max(ratios) > 5 * TRUE_RATIO


@pytest.mark.parametrize("rounds", [MIN_ROUNDS, 15])
def test_the_interval_covers_the_true_ratio_at_its_stated_rate(rounds):
    rng = np.random.default_rng(31)
    trials = 400
    covered, stated = 0, math.nan
    for _ in range(trials):
        lo, hi, stated = median_interval(lognormal_rounds(rng, rounds))
        covered += lo <= TRUE_RATIO <= hi
    # exact for any continuous distribution: at least 95%; 3 Monte Carlo SEs either side
    se = math.sqrt(stated * (1 - stated) / trials)
    assert stated >= MEDIAN_LEVEL
    assert abs(covered / trials - stated) < 3 * se
