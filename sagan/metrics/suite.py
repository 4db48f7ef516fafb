"""Every feature-space metric of one run, from one feature pass, with the split it used.

Names say the extractor (README, "What the default study produces"): FID only for Inception
features (``fid``, ``kid``, ``precision``, ...); any other extractor's name is a suffix
(``fd_domain``, ``kid_domain``, ``precision_domain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sagan.metrics.declared import feature_name
from sagan.metrics.distances import frechet_distance, kernel_distance_stats
from sagan.metrics.fidelity import precision_recall_density_coverage
from sagan.metrics.overfitting import memorisation

PRDC_K = 3  # nearest neighbours for precision/recall (Kynkaanniemi et al. 2019) and D&C
PRDC_KEYS = ("precision", "recall", "density", "coverage")
# fraction of samples nearer a training image than 99% of held-out reals are; median NN
# distance ratio (generated / held-out, to the training set); Mann-Whitney z (< -3: copying)
MEMO_KEYS = ("near_copy_fraction", "median_ratio", "mann_whitney_z")


def metric_name(base: str, extractor: str) -> str:
    """``fd_train`` of ``domain`` features -> ``fd_domain_train`` (Inception: ``fid_train``);
    the names are declared in ``sagan.metrics.declared``."""
    family, _, tail = base.partition("_")
    return feature_name(family, extractor, tail)


@dataclass(frozen=True)
class Value:
    value: float
    reference_split: str  # "heldout", "train" (the run's training subset) or "both"
    reference_count: int


def feature_metrics(
    fake: np.ndarray, heldout: np.ndarray, train: np.ndarray, *, extractor: str, seed: int
) -> dict[str, Value]:
    """Quality against held-out reals, the same against the training subset, their gaps
    (positive: G is closer to what it trained on than to fresh images), fidelity/diversity,
    and memorisation."""
    n_h, n_t = len(heldout), len(train)
    fd_h, fd_t = frechet_distance(fake, heldout), frechet_distance(fake, train)
    kid_h, kid_h_std = kernel_distance_stats(fake, heldout, seed=seed)
    kid_t, _ = kernel_distance_stats(fake, train, seed=seed)
    values = {
        "fd": Value(fd_h, "heldout", n_h),
        "fd_train": Value(fd_t, "train", n_t),
        "fd_gap": Value(fd_h - fd_t, "both", n_h),
        "kid": Value(kid_h, "heldout", n_h),
        "kid_std": Value(kid_h_std, "heldout", n_h),
        "kid_train": Value(kid_t, "train", n_t),
        "kid_gap": Value(kid_h - kid_t, "both", n_h),
    }
    prdc = precision_recall_density_coverage(heldout, fake, k=PRDC_K)
    values |= {key: Value(float(prdc[key]), "heldout", n_h) for key in PRDC_KEYS}
    memo = memorisation(fake, train, heldout)
    values |= {f"memo_{key}": Value(float(memo[key]), "both", n_t) for key in MEMO_KEYS}
    return {metric_name(k, extractor): v for k, v in values.items()}
