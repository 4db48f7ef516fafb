"""Dataset registry: a name -> builder returning the raw images and labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from sagan.registry import Registry


@dataclass(frozen=True)
class RawImages:
    """N images at native resolution and their labels.

    ``images`` is any sequence of N images, each an (H, W, C) uint8 array or a PIL image; an
    (N, H, W, C) uint8 array qualifies. Real datasets pass a lazy sequence that decodes on
    indexing, so 200k CelebA images are never held in memory at native resolution.
    """

    images: Sequence[np.ndarray | Image.Image] | np.ndarray
    labels: np.ndarray  # (N,) int64 class ids


DATASETS: Registry[Callable[..., RawImages]] = Registry("dataset")
