"""Where an effect lies against a claimed range: the verdict words and their exact rules.

The unit is the seed cluster: one value per (dataset, seed), the mean of its paired effects
over the sizes trained (``sagan.report.clusters``). Every test is a one-sample Student-t test
on those values, one-sided at ALPHA / 2 = 0.025, so that each verdict reads off the printed 95%
t-interval (``sagan.report.stats.t_interval``): a bound is rejected exactly when the interval
lies beyond it. A verdict that needs several bounds (inside a two-sided range, the two sides of
an equivalence) is an intersection-union test: its p is the largest of its one-sided p's.

The claim's direction is the side of 0 its range lies on: up for [12, 18] or [0, inf], down for
[-inf, -5], none for a range that holds 0 inside it ([-5, inf]: "no worse than -5"). For a
downward claim every word below is read mirrored ("larger" = further below 0). The verdict is
the first candidate whose p is below 0.025 (after Holm's adjustment across a table's claims,
``sagan.report.claims``), in this order:

1. inside the claimed range: the mean is shown above lo and below hi (each finite bound);
2. larger than claimed: the mean is shown beyond hi (a finite far bound);
3. equivalent to no effect: the mean is shown within +-margin (the smallest effect of
   interest; only where a margin is set and measurable);
4. opposite to the claim: a directional claim, and the mean is shown on the other side of 0;
5. smaller than claimed, same direction: the mean is shown below lo (> 0) and above 0;
6. smaller than claimed: the mean is shown below lo (for a range holding 0: below the range);
7. inconclusive: none holds; the MDE says what these seeds could have detected.

Where the real-vs-real noise floor (in the effect's unit) exceeds the margin, effects below
the floor cannot be told from noise (``clear_of_floor``): equivalence is not tested, a test
against 0 tests against the floor instead (on the same side), and a verdict resting on a
nonzero bound nearer 0 than the floor is not tried. A row that then reads inconclusive reads
"untestable at this scale".

Candidates 1, 2 and 4-6 assert disjoint things about the true mean, so at most one holds
unless the interval is wider than nothing; 3 can hold beside 1 (a tiny but real gain on [0,
inf]): 1 wins and the note says the effect is within the margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from sagan.report.stats import minimum_detectable_effect, t_interval

ALPHA = 0.05
ONE_SIDED = ALPHA / 2  # each one-sided test, so that verdicts read off the 95% interval

INSIDE = "inside the claimed range"
LARGER = "larger than claimed"
EQUIVALENT = "equivalent to no effect"
OPPOSITE = "opposite to the claim"
SMALLER_SAME = "smaller than claimed, same direction"
SMALLER = "smaller than claimed"
INCONCLUSIVE = "inconclusive"
UNTESTABLE = "untestable at this scale"
NOT_MEASURED = "not measured in this study"
NOT_POOLED = "not pooled"
NOT_DECIDED = "not decided: too few rounds"  # a profile with fewer than MIN_ROUNDS rounds
WORDS = (INSIDE, LARGER, EQUIVALENT, OPPOSITE, SMALLER_SAME, SMALLER)
VERDICTS = (*WORDS, INCONCLUSIVE, UNTESTABLE, NOT_MEASURED, NOT_POOLED, NOT_DECIDED)


SIDES = ("greater", "less")


@dataclass(frozen=True)
class Bound:
    """One one-sided test: the mean is shown ``side`` ("greater"/"less") than ``value``."""

    value: float
    side: str

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"a bound's side is one of {SIDES}, got {self.side!r}")

    @property
    def name(self) -> str:
        return f"mean {'>' if self.side == 'greater' else '<'} {self.value:.3g}"


def direction(claimed: tuple[float, float]) -> int:
    """+1 for a range at or above 0, -1 at or below it, 0 for one holding 0 inside."""
    lo, hi = claimed
    return 1 if lo >= 0 else -1 if hi <= 0 else 0


def candidates(claimed: tuple[float, float], margin: float | None) -> list[tuple[str, list[Bound]]]:
    """The verdicts in the order they are tried, each with the bounds it must reject."""
    s = direction(claimed) or 1
    lo, hi = claimed if s > 0 else (-claimed[1], -claimed[0])  # oriented: lo is the near end
    up, down = ("greater", "less") if s > 0 else ("less", "greater")

    def b(value: float, side: str) -> Bound:
        return Bound(s * value + 0.0, side)

    inside = [b(lo, up)] if math.isfinite(lo) else []
    inside += [b(hi, down)] if math.isfinite(hi) else []
    out = [(INSIDE, inside)]
    if math.isfinite(hi):
        out.append((LARGER, [b(hi, up)]))
    if margin is not None and math.isfinite(margin) and margin > 0:
        out.append((EQUIVALENT, [Bound(-margin, "greater"), Bound(margin, "less")]))
    if direction(claimed):
        out.append((OPPOSITE, [b(0.0, down)]))
        if lo > 0:
            out.append((SMALLER_SAME, [b(lo, down), b(0.0, up)]))
    if math.isfinite(lo) and (lo > 0 or not direction(claimed)):
        out.append((SMALLER, [b(lo, down)]))
    return out


def clear_of_floor(
    tried: list[tuple[str, list[Bound]]], floor: float
) -> list[tuple[str, list[Bound]]]:
    """The candidates that stay clear of a noise ``floor`` (see the module docstring)."""
    out = []
    for word, bounds in tried:
        if word == EQUIVALENT or any(0 < abs(b.value) < floor for b in bounds):
            continue
        moved = [
            Bound(floor if b.side == "greater" else -floor, b.side) if b.value == 0 else b
            for b in bounds
        ]
        out.append((word, moved))
    return out


def one_sided_p(x: np.ndarray, bound: Bound) -> float:
    """The one-sample t-test's p that the mean is ``bound.side`` than ``bound.value`` (scipy's
    ``ttest_1samp`` with that alternative, computed from the t statistic directly: the claims'
    calibration test runs it hundreds of thousands of times)."""
    sd = x.std(ddof=1)
    if sd == 0:  # no spread: the sample's side decides, with certainty
        beyond = x[0] > bound.value if bound.side == "greater" else x[0] < bound.value
        return 0.0 if beyond else 1.0
    t = (x.mean() - bound.value) / (sd / math.sqrt(len(x)))
    return float(special.stdtr(len(x) - 1, -t if bound.side == "greater" else t))


@dataclass
class Judgement:
    """One row's numbers: the cluster values' mean and interval, every test with its p, and
    the verdict with the candidate that decided it (or came nearest, for inconclusive)."""

    n: int
    mean: float = math.nan
    ci_lo: float = math.nan
    ci_hi: float = math.nan
    mde: float = math.nan
    p_zero: float = math.nan  # two-sided, against no effect
    tests: dict[str, float] = field(default_factory=dict)  # every one-sided bound -> p
    ranked: list[tuple[str, str, float]] = field(default_factory=list)  # word, test, p
    verdict: str = INCONCLUSIVE
    test: str = ""
    p: float = math.nan

    def decide(self) -> None:
        """The first candidate whose p is below ONE_SIDED; else inconclusive, naming the
        candidate that came nearest."""
        for word, test, p in self.ranked:
            if p < ONE_SIDED:
                self.verdict, self.test, self.p = word, test, p
                return
        self.verdict = INCONCLUSIVE
        if self.ranked:
            _, self.test, self.p = min(self.ranked, key=lambda r: r[2])


def judge(
    values: Sequence[float],
    claimed: tuple[float, float],
    margin: float | None = None,
    floor: float | None = None,
) -> Judgement:
    """Every test of the cluster values against the claimed range and the margin, and the
    verdict before any multiplicity adjustment (the module docstring's rules; a ``floor``
    above the margin: ``clear_of_floor``, and inconclusive reads untestable)."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    out = Judgement(n=len(x))
    if len(x) == 0:
        out.verdict = NOT_MEASURED
        return out
    out.mean = float(x.mean())
    if len(x) < 2:
        out.test = "none: one seed has no spread to test against"
        return out
    out.ci_lo, out.ci_hi = t_interval(x)
    out.mde = minimum_detectable_effect(x, ALPHA)
    out.p_zero = (
        float(stats.ttest_1samp(x, 0.0).pvalue) if np.ptp(x) else float(x[0] == 0)
    )  # no spread: certain, unless every value is 0
    tried = candidates(claimed, margin)
    below_floor = floor is not None and math.isfinite(floor) and floor > (margin or 0)
    if below_floor:
        tried = clear_of_floor(tried, floor)
    for word, bounds in tried:
        ps = [one_sided_p(x, bound) for bound in bounds]
        for bound, p in zip(bounds, ps, strict=True):
            out.tests[bound.name] = p
        out.ranked.append((word, " and ".join(b.name for b in bounds), max(ps)))
    out.decide()
    if below_floor and out.verdict == INCONCLUSIVE:
        out.verdict = UNTESTABLE
    return out


def needed_seeds(values: Sequence[float], effect: float, power: float = 0.80) -> int | None:
    """About how many seeds a paired t-test needs to detect ``effect`` with ``power`` at the
    spread of ``values`` (None: no spread measured, or no finite effect to detect)."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if len(x) < 2 or not math.isfinite(effect) or effect <= 0 or x.std(ddof=1) == 0:
        return None
    sd = x.std(ddof=1)
    for n in range(2, 1001):
        t = stats.t.ppf(1 - ALPHA / 2, n - 1) + stats.t.ppf(power, n - 1)
        if t * sd / math.sqrt(n) <= effect:
            return n
    return None


def distance_to_tell(claimed: tuple[float, float], margin: float | None) -> float:
    """The smallest effect these seeds must resolve to tell the claim from no effect: the
    nearest nonzero finite bound of the range, or the margin where that is smaller."""
    near = [abs(b) for b in claimed if math.isfinite(b) and b != 0]
    if margin is not None and math.isfinite(margin) and margin > 0:
        near.append(margin)
    return min(near, default=math.nan)


def interval_verdict(
    lo: float, hi: float, claimed: tuple[float, float], margin: float | None = None
) -> str:
    """The same words read off an interval alone (a profile's interval of the median): the
    first candidate every bound of which the interval lies beyond. (A profile with too few
    rounds for an interval reads NOT_DECIDED before it gets here: ``measured_verdict``.)"""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    for word, bounds in candidates(claimed, margin):
        if all(lo > b.value if b.side == "greater" else hi < b.value for b in bounds):
            return word
    return INCONCLUSIVE
