"""Fréchet distance, FD-infinity and kernel distance (KID) of two feature sets, via clean-fid."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from cleanfid import fid as cleanfid

from sagan.errors import DataError


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (N, D) features."""
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2), clean-fid's implementation."""
    fewest = min(len(feats_a), len(feats_b))
    if fewest < 2:  # one sample has no covariance: sqrtm would fail with a LinAlgError
        raise DataError(
            f"Fréchet distance needs at least 2 samples in each set, got {len(feats_a)} and "
            f"{len(feats_b)}; use a data size and a sample count of at least 2"
        )
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
    with _seeded_global_rng(seed):
        kid = cleanfid.kernel_distance(
            feats_a, feats_b, num_subsets=num_subsets, max_subset_size=max_subset_size
        )
    return float(kid)


@contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for the block, then put the caller's state back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _cubic_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(u, v) = (u.v / d + 1)^3 between the rows of x (n, d) and y (k, d): (n, k)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def _mmd2_times_m(within: np.ndarray, cross: np.ndarray) -> float:
    """m * unbiased MMD^2 of two size-m subsets (Bińkowski et al. 2018), from the sum of their
    within-set kernel matrices (m, m) and their cross kernel (m, m), in clean-fid's order of
    operations, so that sums of it reproduce clean-fid's KID."""
    m = len(within)
    return (within.sum() - np.diag(within).sum()) / (m - 1) - cross.sum() * 2 / m


# Up to this many rows per set the kernels are computed once (a float64 matrix of this side is
# 128 MiB) and each subset reads its block: 5x faster at the default study's 500 x 400.
# Above it (Inception at 10k-50k samples), each subset computes its own, as clean-fid does.
WHOLE_KERNEL_ROWS = 4096


def kernel_distance_stats(
    feats_a: np.ndarray,
    feats_b: np.ndarray,
    *,
    seed: int = 0,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
) -> tuple[float, float]:
    """KID mean and standard deviation over subsets (Bińkowski et al. 2018).

    Same subsets (numpy's global RNG seeded with ``seed``, then restored) and same estimator as
    clean-fid's ``kernel_distance``, so the mean equals :func:`kernel_distance` with the same
    arguments. The std is over the ``num_subsets`` subset estimates with ddof=0, as in
    Bińkowski et al.'s code and torch-fidelity; the subsets overlap, so it is a spread of the
    estimator, not a confidence interval over the data.
    """
    m = min(len(feats_a), len(feats_b), max_subset_size)
    if m < 2:
        raise ValueError(
            f"KID needs at least 2 samples per set, got {len(feats_a)} and {len(feats_b)}"
        )
    whole = max(len(feats_a), len(feats_b)) <= WHOLE_KERNEL_ROWS
    if whole:
        k_bb, k_aa = _cubic_kernel(feats_b, feats_b), _cubic_kernel(feats_a, feats_a)
        k_ba = _cubic_kernel(feats_b, feats_a)
    per_subset = []
    with _seeded_global_rng(seed):
        for _ in range(num_subsets):
            # clean-fid draws feats_b's subset first, then feats_a's
            i = np.random.choice(len(feats_b), m, replace=False)
            j = np.random.choice(len(feats_a), m, replace=False)
            if whole:
                within, cross = k_bb[np.ix_(i, i)] + k_aa[np.ix_(j, j)], k_ba[np.ix_(i, j)]
            else:
                x, y = feats_b[i], feats_a[j]
                within = _cubic_kernel(x, x) + _cubic_kernel(y, y)
                cross = _cubic_kernel(x, y)
            per_subset.append(_mmd2_times_m(within, cross))
    # clean-fid's order of operations: running sum, then / num_subsets / m
    mean = sum(per_subset, 0) / num_subsets / m
    return float(mean), float(np.std(np.asarray(per_subset) / m))


# Chong & Forsyth used 15 counts from 5k to 50k; the paper study scores 10k samples, and every
# count stays above Inception's 2048 dimensions so that each covariance has full rank.
FID_INFINITY_COUNTS = tuple(range(2500, 10001, 500))


def fit_inverse_count_line(counts: Sequence[int], values: Sequence[float]) -> tuple[float, float]:
    """Least-squares (a, b) of value = a + b / N over the points (N, value)."""
    x = 1.0 / np.asarray(counts, dtype=np.float64)  # (P,)
    design = np.stack([np.ones_like(x), x], axis=1)  # (P, 2)
    (a, b), *_ = np.linalg.lstsq(design, np.asarray(values, dtype=np.float64), rcond=None)
    return float(a), float(b)


def fid_infinity(
    feats_fake: np.ndarray,
    feats_real: np.ndarray,
    *,
    counts: Sequence[int] = FID_INFINITY_COUNTS,
    seed: int = 0,
) -> dict:
    """FD extrapolated to infinitely many generated samples (Chong & Forsyth 2020, FID_inf).

    FD is biased upwards by a term close to b / N for N generated samples. We compute FD of a
    random subset of N fake features (no replacement, seeded) against all real features for each
    N in ``counts``, fit FD = a + b / N by least squares and return a as ``fd_infinity``, with
    the slope b and the (N, FD) points. The real side keeps its own finite-sample bias. The fit
    assumes N well above the feature dimension (the paper used 5k-50k Inception samples).
    """
    counts = sorted({int(n) for n in counts})
    if len(counts) < 2 or counts[0] < 2 or counts[-1] > len(feats_fake):
        raise ValueError(
            f"FD-infinity needs at least two counts between 2 and the {len(feats_fake)} generated "
            f"samples, got {counts}: pass counts=... that fit the sample"
        )
    rng = np.random.default_rng(seed)
    real_stats = gaussian_stats(feats_real)
    points = []
    for n in counts:
        subset = feats_fake[rng.choice(len(feats_fake), n, replace=False)]  # (n, D)
        fd = cleanfid.frechet_distance(*gaussian_stats(subset), *real_stats)
        points.append((n, float(fd)))
    a, b = fit_inverse_count_line(*zip(*points, strict=True))
    return {"fd_infinity": a, "slope": b, "points": points}
