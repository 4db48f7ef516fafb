"""Whether a run learned: the declared convergence and collapse criteria, and its final
attention gates. Pure functions over a run's FD-while-training curve, its ``metrics.json``
values and its training log; ``sagan.report.aggregate`` puts their answers in the summary.

The criteria and their thresholds are fixed here, before any effect is looked at
(docs/claims-and-statistics.md, "Runs that learned"); a run that fails one is counted in the
tables, never dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from sagan.metrics.declared import DeclaredMetric, resolve

# Convergence: FD while training over the last third of the run moves by at most this share
# of its value at the window's start. The during FD of one G rescored with other latents
# varies by 3.6 % (SD/mean) at its 250 samples (docs/claims-and-statistics.md), so 10 % is
# about 2 SD of the difference of two independent scorings: a real change, not noise.
CONVERGED_TOLERANCE = 0.10
LAST_PART = 1 / 3  # the window: the last third of the run's iterations

# Collapse: any one of these marks a run collapsed.
RECALL_AT_MOST = 0.0  # recall 0: no held-out real lies inside the generated manifold
CLASS_COVERAGE_BELOW = 0.5  # fewer than half the classes get half their fair share
# and FD above the total variance of the reference features (trace of their covariance):
# worse than a point mass at the real features' mean, whose FD is exactly that trace.


# Learned samples: a stricter bar than "not collapsed", the default study's stated check that
# its samples look like the data (digits you can read): nearly every class drawn, and some
# held-out reals inside the generated manifold.
LEARNED_CLASS_COVERAGE = 0.9
LEARNED_RECALL_ABOVE = 0.0


def _declared(metrics: Mapping[str, float]) -> Iterator[tuple[str, float, DeclaredMetric]]:
    """(name, value, declaration) of each finite, declared metric, in name order."""
    for name, value in sorted(metrics.items()):
        m = resolve(name)
        if m is not None and value is not None and math.isfinite(value):
            yield name, value, m


def samples_learned(metrics: Mapping[str, float]) -> tuple[bool | None, str]:
    """(learned, what failed) from a run's metric values: class coverage >= 0.9 and recall
    > 0 wherever the run has them; None when it has neither (e.g. Inception scores only)."""
    checks = {
        "class_coverage": lambda v: v >= LEARNED_CLASS_COVERAGE,
        "recall": lambda v: v > LEARNED_RECALL_ABOVE,
    }
    read = [(n, v, m) for n, v, m in _declared(metrics) if m.declaration.key in checks]
    failed = [f"{n} = {v:.3g}" for n, v, m in read if not checks[m.declaration.key](v)]
    return (None if not read else not failed), "; ".join(failed)


def convergence(points: Sequence[tuple[int, float]], iterations: int) -> tuple[bool | None, float]:
    """(converged, change) of a run of ``iterations`` from its FD-while-training ``points``
    (iteration, fd). ``change`` = (FD at the end - FD at the window's start) / FD at the
    window's start, where the window starts at the last point at or before 2/3 of the run
    (round(iterations * 2/3)) and ends at a point at ``iterations``; negative: still falling.
    ``converged`` is whether |change| <= CONVERGED_TOLERANCE; None (and a NaN change) when the
    curve cannot say: no point at the end, none in the first two thirds, a non-finite or
    zero FD."""
    scored = {int(i): float(fd) for i, fd in points if fd is not None and math.isfinite(fd)}
    start = round(iterations * (1 - LAST_PART))
    before = [i for i in scored if 0 < i <= start]
    if iterations not in scored or not before or scored[max(before)] <= 0:
        return None, math.nan
    first = scored[max(before)]
    change = (scored[iterations] - first) / first
    return bool(abs(change) <= CONVERGED_TOLERANCE), change


def collapse(
    metrics: Mapping[str, float], reference_trace: float | None = None
) -> tuple[bool | None, str]:
    """(collapsed, reason) from a run's metric values (``metrics.json`` name -> value) and the
    trace of its reference features' covariance (None: unknown, that criterion is skipped).
    ``collapsed`` is True when any declared criterion holds (``reason`` names each criterion
    and the number it read), False when none does, None when none could be read."""
    reasons, read = [], 0
    for name, value, m in _declared(metrics):
        family = m.declaration.key
        if family == "recall":
            read += 1
            if value <= RECALL_AT_MOST:
                reasons.append(f"{name} = {value:.3g} <= {RECALL_AT_MOST:g}")
        elif family == "class_coverage":
            read += 1
            if value < CLASS_COVERAGE_BELOW:
                reasons.append(f"{name} = {value:.3g} < {CLASS_COVERAGE_BELOW:g}")
        elif family == "fd" and reference_trace is not None and _whole_samples(m.samples):
            read += 1
            if value > reference_trace:
                reasons.append(
                    f"{name} = {value:.4g} > {reference_trace:.4g}, the reference "
                    "features' total variance"
                )
    if not read:
        return None, "no recall, class coverage or FD to read"
    return bool(reasons), "; ".join(reasons)


def _whole_samples(samples: str) -> bool:
    """An FD over what the reference file holds (whole images or clips), not over frames."""
    return samples in ("generated images", "generated clips")


def reference_trace(features: np.ndarray) -> float:
    """The total variance of (N, D) reference features: the trace of their covariance (the
    FD of a generator that puts every sample at their mean)."""
    return float(np.trace(np.cov(features, rowvar=False)))


def final_gammas(row: Mapping[str, float]) -> dict[str, float]:
    """Mean |gamma| of G's and of D's attention gates in a training-log row (its
    ``gamma:G.<block>`` / ``gamma:D.<block>`` columns); NaN for a side without any."""
    out = {}
    for side, column in (("G", "gamma_g_final"), ("D", "gamma_d_final")):
        values = [
            abs(float(v))
            for k, v in row.items()
            if k.startswith(f"gamma:{side}.") and v is not None and math.isfinite(float(v))
        ]
        out[column] = float(np.mean(values)) if values else math.nan
    return out
