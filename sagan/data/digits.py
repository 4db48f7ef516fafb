"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 grey images, 10 classes, offline."""

from __future__ import annotations

import numpy as np

from sagan.data.registry import DATASETS, RawImages

DIGITS_MAX = 16  # pixel values in the UCI digits set run 0..16
DIGITS_COUNT = 1797  # images in the set: validation checks sizes against it up front


@DATASETS.register("digits", count=DIGITS_COUNT)
def digits() -> RawImages:
    """Handwritten digits shipped with scikit-learn (UCI, 1,797 images 8x8, 10 classes)."""
    from sklearn.datasets import load_digits  # here: importing sklearn costs every job a second

    bunch = load_digits()
    images = np.rint(bunch.images * (255 / DIGITS_MAX)).astype(np.uint8)[..., None]  # (N,8,8,1)
    return RawImages(images=images, labels=bunch.target.astype(np.int64))
