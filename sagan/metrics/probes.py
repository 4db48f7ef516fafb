"""Exact coherence scores of the structure probes, computable on any batch of images.

A score is registered under its probe dataset's name; evaluation reports it for generated
images beside its value on real held-out images and at chance. Its metric (unit, direction)
is declared in ``sagan.metrics.declared``; a plug-in's probe declares its own there with
``declare_metric``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from sagan.data.probes import BACKGROUND, PALETTE, SHAPES, object_size
from sagan.registry import Registry


@dataclass(frozen=True)
class ProbeScore:
    name: str  # the metric's name in metrics.json
    score: Callable[[Tensor], float]  # (B, 3, H, W) pixels in [0, 255] -> score
    chance: float  # the score of images with no structure (see each score's docstring)


PROBE_SCORES: Registry[Callable[[], ProbeScore]] = Registry("probe score")


def mirror_error(pixels: Tensor) -> float:
    """Mean |x - mirror(x)| / 255 over pixels: 0 for perfect mirrors, 1/3 for uniform noise."""
    x = pixels.double()
    return (x - x.flip(-1)).abs().mean().item() / 255.0


@PROBE_SCORES.register("mirror")
def mirror() -> ProbeScore:
    """Mirror error of left vs right half (lower is better)."""
    return ProbeScore("mirror_error", mirror_error, chance=1 / 3)


def _decode_object(region: np.ndarray, size: int) -> tuple[int, int] | None:
    """(shape, colour) of the single object in an (H, W, 3) region, or None if there is none.

    The object is the largest 4-connected blob of pixels far from the grey field (specks
    elsewhere are ignored, up to half the blob's area: a second object is not). It must be
    about one object's worth of pixels, in a box about the object's size, close to one
    palette colour; its fill ratio of the box tells the shape (square ~1, circle ~0.8,
    triangle ~0.5).
    """
    away = np.abs(region.astype(np.int32) - BACKGROUND).max(axis=-1) > 64
    blobs, n = ndimage.label(away)
    if n == 0:
        return None
    areas = np.bincount(blobs.ravel())[1:]
    mask = blobs == int(areas.argmax()) + 1
    count = int(mask.sum())
    if not 0.3 * size * size <= count <= 1.3 * size * size or away.sum() - count > count / 2:
        return None
    ys, xs = np.nonzero(mask)
    h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
    if not (0.6 * size <= h <= 1.4 * size and 0.6 * size <= w <= 1.4 * size):
        return None
    colours = region[mask].astype(np.int32)  # (count, 3)
    distances = np.linalg.norm(colours[:, None] - PALETTE[None].astype(np.int32), axis=-1)
    nearest = np.bincount(distances.argmin(1), minlength=len(PALETTE))
    colour = int(nearest.argmax())
    if nearest[colour] < 0.8 * count:
        return None
    fill = count / (h * w)
    shape = 0 if fill > 0.9 else 1 if fill > 0.66 else 2
    return shape, colour


def pairs_agreement(pixels: Tensor) -> float:
    """Fraction of images whose left-third and right-third objects share shape and colour.

    1 for real pairs; 1/9 for two independent objects; an image without two clean objects
    (noise, blur) counts as disagreeing.
    """
    images = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    r = images.shape[2]
    size, third = object_size(r), r // 3
    agree = 0
    for img in images:
        left, right = _decode_object(img[:, :third], size), _decode_object(img[:, -third:], size)
        agree += left is not None and left == right
    return agree / len(images)


@PROBE_SCORES.register("pairs")
def pairs() -> ProbeScore:
    """Agreement of the two distant objects' shape and colour (higher is better)."""
    chance = 1 / (len(SHAPES) * len(PALETTE))
    return ProbeScore("pairs_agreement", pairs_agreement, chance=chance)
