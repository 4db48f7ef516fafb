"""Memorisation of the training set by a generator, measured in feature space.

All distances are Euclidean distances between feature vectors, in the units of the extractor
that produced the features (its name belongs in the metric's metadata); they are comparable
only between results from the same extractor.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sagan.errors import DataError


def nearest_neighbour_distances(
    queries: np.ndarray, reference: np.ndarray, *, block_bytes: int = 64 * 2**20
) -> np.ndarray:
    """Euclidean distance from each of the (Q, D) queries to its nearest (R, D) reference row.

    Queries go in blocks whose (block, R) float64 score matrix stays under ``block_bytes``
    (64 MiB: 10k x 50k runs in 60 blocks of 167 queries), so memory does not grow with Q.
    Returns shape (Q,).
    """
    queries = np.asarray(queries, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if len(reference) == 0 or queries.shape[1:] != reference.shape[1:]:
        raise ValueError(
            f"nearest neighbours need a non-empty reference of the queries' width, got queries "
            f"{queries.shape} and reference {reference.shape}"
        )
    ref_sq = np.einsum("rd,rd->r", reference, reference)  # (R,)
    rows = max(1, block_bytes // (8 * len(reference)))
    out = np.empty(len(queries))
    for start in range(0, len(queries), rows):
        q = queries[start : start + rows]  # (B, D)
        # ||q - r||^2 less the per-row constant ||q||^2: enough for the argmin, cheap as a GEMM
        scores = ref_sq[None, :] - 2.0 * (q @ reference.T)  # (B, R)
        nearest = scores.argmin(axis=1)  # (B,)
        # the expansion cancels badly for near-identical rows; recompute the winners directly,
        # so that an exact copy is at distance 0, not ~1e-7
        out[start : start + rows] = np.linalg.norm(q - reference[nearest], axis=1)
    return out


def mann_whitney_z(x: np.ndarray, y: np.ndarray) -> float:
    """z-score of the Mann-Whitney U statistic of x against y; negative when x tends to be smaller.

    Normal approximation with the tie correction and no continuity correction, so that the
    two-sided p-value 2 * Phi(-|z|) is scipy's ``method="asymptotic", use_continuity=False`` one.
    """
    n1, n2 = len(x), len(y)
    n = n1 + n2
    u = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False).statistic  # U of x
    _, ties = np.unique(np.concatenate([x, y]), return_counts=True)
    var = n1 * n2 / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1)))
    return float((u - n1 * n2 / 2) / np.sqrt(var)) if var > 0 else 0.0


def memorisation(
    fake: np.ndarray, train: np.ndarray, heldout: np.ndarray, *, copy_quantile: float = 0.01
) -> dict:
    """How much closer generated samples sit to the training set than fresh real samples do.

    ``fake``, ``train`` and ``heldout`` are (N, D) features of generated images, of the training
    images, and of real images never trained on. Returned fields (distances in feature units):

    - ``fake_to_train_median``: median distance of a generated sample to its nearest training
      sample.
    - ``heldout_to_train_median``: the same for held-out real samples: what "new" looks like.
    - ``median_ratio``: fake_to_train_median / heldout_to_train_median (unitless); below 1 means
      generated samples sit closer to the training data than fresh reals.
    - ``near_copy_threshold``: the ``copy_quantile`` quantile of held-out-to-train distances.
    - ``near_copy_fraction``: fraction of generated samples closer to the training set than that
      threshold; held-out reals give about ``copy_quantile`` by construction, exact copies 1.
    - ``mann_whitney_z``: z-score of the Mann-Whitney U test of generated-to-train against
      held-out-to-train distances (unitless); about N(0, 1) without memorisation, strongly
      negative when generated samples are closer to the training data than fresh reals. This is
      Meehan et al. 2020's Z_U ("A non-parametric test to detect data-copying in generative
      models") on a single cell: their per-cell average can catch copying in one region that
      underfitting elsewhere hides here.
    """
    if not 0 < copy_quantile < 1:
        raise ValueError(f"copy_quantile must lie in (0, 1), got {copy_quantile}")
    d_fake = nearest_neighbour_distances(fake, train)  # (N_fake,)
    d_heldout = nearest_neighbour_distances(heldout, train)  # (N_heldout,)
    threshold = float(np.quantile(d_heldout, copy_quantile))
    fake_median, heldout_median = float(np.median(d_fake)), float(np.median(d_heldout))
    if heldout_median == 0:
        raise DataError(
            "most held-out images have an exact copy in the training pool, so copying cannot "
            "be told from generalising: the dataset repeats images; remove the duplicates or "
            "draw more distinct images"
        )
    return {
        "fake_to_train_median": fake_median,
        "heldout_to_train_median": heldout_median,
        "median_ratio": fake_median / heldout_median,
        "near_copy_threshold": threshold,
        "near_copy_fraction": float(np.mean(d_fake < threshold)),
        "mann_whitney_z": mann_whitney_z(d_fake, d_heldout),
        "copy_quantile": copy_quantile,
        "num_fake": len(fake),
        "num_train": len(train),
        "num_heldout": len(heldout),
    }
