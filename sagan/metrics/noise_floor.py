"""The noise floor: FD and KID between two disjoint sets of real images at the study's own
sample counts, over a few resamples. A run's score, or an effect between two arms, that lies
within it cannot be told apart from drawing another set of real images.

Which reals stand in for the generated side: ``num_samples`` images of the *training pool*,
scored against the *whole held-out split*, exactly the reference every run is scored against.
- It keeps both counts of the evaluation (500 vs 400 in the default study). FD's bias
  depends on both counts, so a floor from two halves of the held-out split (200 vs 200) would
  be larger than the floor a run actually sits on.
- The two sets are disjoint by construction (the held-out split is never trained on).
- The domain extractor was fitted on the training pool, so the floor also holds its
  train/held-out gap; a generator that draws images like its training set pays the same gap,
  so this is the floor that applies to runs. Each resample draws a new pool subset (seeded);
  the held-out side stays fixed, as it is for every run.

The features come from the stored reference files (``sagan.metrics.reference``): the training
pool's and the held-out split's, so the floor loads no network.
"""

from __future__ import annotations

import numpy as np

from sagan.errors import ConfigError, DataError
from sagan.metrics.distances import frechet_distance, kernel_distance_stats
from sagan.metrics.suite import metric_name

RESAMPLES = 5  # draws of the generated side; mean and SD over them
FLOOR_COLUMNS = [
    "extractor",
    "metric",  # the summary column it is the floor of, e.g. fd_domain, kid_domain
    "mean",
    "sd",  # over resamples, ddof=1
    "resamples",
    "num_samples",  # reals on the generated side: the evaluation's num_samples, or the pool
    "sample_split",  # where those come from: the training pool
    "reference_count",
    "reference_split",
]


def floor_subsets(pool_size: int, num_samples: int, resamples: int) -> list[np.ndarray]:
    """Indices into the training pool for each resample: ``num_samples`` without replacement
    (the whole pool, in a new order, when it holds fewer: the rows record the count used),
    resample r drawn with seed r (the extractor checks reuse the same subsets)."""
    if pool_size < 2:
        raise DataError(f"the noise floor needs at least 2 training-pool images, got {pool_size}")
    n = min(num_samples, pool_size)
    return [np.random.default_rng(r).choice(pool_size, n, replace=False) for r in range(resamples)]


def noise_floor(
    pool: np.ndarray,
    heldout: np.ndarray,
    *,
    num_samples: int,
    extractor: str,
    resamples: int = RESAMPLES,
) -> list[dict]:
    """FD and KID rows (``FLOOR_COLUMNS``) of ``num_samples`` pool features (N_pool, D)
    against all held-out features (N_heldout, D), mean and SD over ``resamples``."""
    if resamples < 2:
        raise ConfigError(f"a floor's spread needs at least 2 resamples, got {resamples}")
    fd, kid = [], []
    subsets = floor_subsets(len(pool), num_samples, resamples)
    for r, idx in enumerate(subsets):
        fd.append(frechet_distance(pool[idx], heldout))
        kid.append(kernel_distance_stats(pool[idx], heldout, seed=r)[0])
    common = {
        "extractor": extractor,
        "resamples": resamples,
        "num_samples": len(subsets[0]),
        "sample_split": "train",
        "reference_count": len(heldout),
        "reference_split": "heldout",
    }
    return [
        {"metric": metric_name(family, extractor), **_spread(values), **common}
        for family, values in (("fd", fd), ("kid", kid))
    ]


def _spread(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1))}
