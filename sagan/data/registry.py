"""Dataset registry: a name -> builder returning the raw images (or clips) and labels.

Video datasets register with the tag ``video``; their builders return ``RawVideos``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class RawVideos:
    """N clips of T frames and their labels.

    ``videos`` is any sequence of N clips, each a (T, H, W, C) uint8 array; an (N, T, H, W, C)
    uint8 array qualifies. ``labels`` (N,) int64 is the class used for balanced subsets;
    ``extra`` holds further per-clip labels (for moving digits: ``digits`` (N, K) classes of
    the K digits, ``direction`` (N,) octant of the first digit's initial motion).
    """

    videos: Sequence[np.ndarray] | np.ndarray
    labels: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def images(self) -> Sequence[np.ndarray] | np.ndarray:
        """The clips (``prepare`` counts and splits them as it does images)."""
        return self.videos
