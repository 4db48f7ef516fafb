"""Precision, recall, density and coverage of generated features against real ones."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import prdc


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, *, k: int = 3) -> dict:
    """k-NN manifold fidelity and diversity scores of (N, D) fake features against real ones.

    precision: fraction of fake samples inside some real sample's k-NN ball; recall: fraction of
    real samples inside some fake sample's k-NN ball (Kynkäänniemi et al. 2019, "Improved
    precision and recall metric for assessing generative models"). density: mean number of real
    k-NN balls holding a fake sample, divided by k (about 1 when fake matches real, unbounded);
    coverage: fraction of real k-NN balls holding at least one fake sample (Naeem et al. 2020,
    "Reliable fidelity and diversity metrics for generative models"). All but density lie in
    [0, 1]; higher is better. Computed by the authors' ``prdc`` package, which holds the three
    dense pairwise distance matrices in memory (about 2.4 GB for 10k real and 10k fake).
    """
    # prdc ranks each sample's neighbours with itself first and partitions at index k + 1,
    # so each set needs k + 2 samples (with k + 1 it fails inside numpy)
    for name, feats in (("real", real), ("fake", fake)):
        if len(feats) <= k + 1:
            raise ValueError(
                f"precision/recall with k={k} needs at least {k + 2} {name} samples, got "
                f"{len(feats)}: score more samples or lower k"
            )
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the two sample counts
        scores = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {name: float(value) for name, value in scores.items()} | {
        "nearest_k": k,
        "num_real": len(real),
        "num_fake": len(fake),
    }
