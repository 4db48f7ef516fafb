"""Dataset registry: a name -> builder returning the raw images and labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sagan.registry import Registry


@dataclass(frozen=True)
class RawImages:
    images: np.ndarray  # (N, H, W, C) uint8, native resolution
    labels: np.ndarray  # (N,) int64 class ids


DATASETS: Registry[Callable[..., RawImages]] = Registry("dataset")
