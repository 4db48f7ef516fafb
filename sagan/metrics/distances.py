"""Fréchet distance and kernel (KID) distance between two feature sets, via clean-fid."""

from __future__ import annotations

import numpy as np
from cleanfid import fid as cleanfid


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (N, D) features."""
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2), clean-fid's implementation."""
    return float(cleanfid.frechet_distance(*gaussian_stats(feats_a), *gaussian_stats(feats_b)))


def kernel_distance(
    feats_a: np.ndarray,
    feats_b: np.ndarray,
    *,
    seed: int = 0,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
) -> float:
    """KID (Bińkowski et al. 2018), clean-fid's implementation, with its subsets seeded.

    clean-fid draws subsets from numpy's global RNG; we seed it and restore it afterwards so
    that the value is reproducible and nobody else's random stream moves.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return float(
            cleanfid.kernel_distance(
                feats_a, feats_b, num_subsets=num_subsets, max_subset_size=max_subset_size
            )
        )
    finally:
        np.random.set_state(state)
