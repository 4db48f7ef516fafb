"""Exact coherence scores of the structure probes, computable on any batch of images.

A score is registered under its probe dataset's name; evaluation reports it for generated
images beside its value on real held-out images and at chance. Its metric (unit, direction)
is declared in ``sagan.metrics.declared``; a plug-in's probe declares its own there with
``declare_metric``.
"""

from __future__ import annotations

import math
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
    # further metrics of one batch, by name: each entry's fields ("value", "chance", ...)
    dependence: Callable[[Tensor], dict[str, dict]] | None = None


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


NO_OBJECT = -1  # a side whose object does not decode: agrees with nothing


def pairs_classes(pixels: Tensor) -> np.ndarray:
    """(B, 2) int: each image's left-third and right-third class (shape * 3 + colour), or
    ``NO_OBJECT`` where that side holds no clean object."""
    images = pixels.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    r = images.shape[2]
    size, third = object_size(r), r // 3
    classes = np.full((len(images), 2), NO_OBJECT, dtype=np.int64)
    for i, img in enumerate(images):
        for side, region in enumerate((img[:, :third], img[:, -third:])):
            if (found := _decode_object(region, size)) is not None:
                classes[i, side] = found[0] * len(PALETTE) + found[1]
    return classes


def pairs_agreement(pixels: Tensor) -> float:
    """Fraction of images whose left-third and right-third objects share shape and colour.

    1 for real pairs; 1/9 for two independent objects; an image without two clean objects
    (noise, blur) counts as disagreeing.
    """
    classes = pairs_classes(pixels)
    return float(np.mean((classes[:, 0] == classes[:, 1]) & (classes[:, 0] != NO_OBJECT)))


def class_table(classes: np.ndarray, k: int = len(SHAPES) * len(PALETTE)) -> np.ndarray:
    """(k + 1, k + 1) counts of (left, right) classes over a batch's (B, 2) classes; the
    last row and column count the sides with no object."""
    index = np.where(classes == NO_OBJECT, k, classes)  # (B, 2)
    return np.bincount(index[:, 0] * (k + 1) + index[:, 1], minlength=(k + 1) ** 2).reshape(
        k + 1, k + 1
    )


def independence_baseline(table: np.ndarray) -> float:
    """sum_c p_left(c) p_right(c) over the object classes (not "no object", which agrees with
    nothing): the agreement a generator with these left and right class frequencies would
    score if it drew its two objects independently. 1/9 only for uniform classes; a
    generator collapsed onto one class scores 1 here without any dependence."""
    p = table / table.sum()
    return float(p[:-1].sum(1) @ p[:, :-1].sum(0))


def mutual_information(table: np.ndarray, miller_madow: bool = False) -> float:
    """I(left; right) in bits from a (left, right) count table, plug-in: the table's own
    frequencies as probabilities.

    The plug-in estimate is biased up: for independent sides it averages about
    (m_l - 1)(m_r - 1) / (2 n ln 2) bits (m: classes seen per side, n: pairs counted), 0.09 at
    9 x 9 classes and the study's 500 samples, against 3.17 bits (log2 9) for real pairs.
    Miller-Madow adds (m - 1) / 2n nats to each plug-in entropy, which takes
    (m_lr - m_l - m_r + 1) / (2 n ln 2) bits off the MI (m_lr: cells seen); it removes the
    first-order bias, not the variance, and can go below 0.
    """
    n = table.sum()
    p = table / n
    left, right = p.sum(1), p.sum(0)
    cells = p > 0
    mi = float((p[cells] * np.log2(p[cells] / np.outer(left, right)[cells])).sum())
    if miller_madow:
        seen = int(cells.sum()) - int((left > 0).sum()) - int((right > 0).sum()) + 1
        mi -= seen / (2 * n * np.log(2))
    return mi


def plug_in_bias(table: np.ndarray) -> float:
    """The plug-in MI's expected value (bits) for independent sides with this table's seen
    classes and count: the chance level of ``mutual_information`` at this sample size."""
    m_left, m_right = int((table.sum(1) > 0).sum()), int((table.sum(0) > 0).sum())
    return (m_left - 1) * (m_right - 1) / (2 * table.sum() * np.log(2))


def pairs_dependence(pixels: Tensor) -> dict[str, dict]:
    """The pairs probe measured against the batch's own independence baseline.

    - ``pairs_independence_baseline``: sum_c p_left(c) p_right(c), this batch's own chance;
    - ``pairs_excess_agreement``: agreement minus that baseline (0: no dependence at all);
    - ``pairs_mutual_information``: I(left; right) in bits over the images whose two sides
      both decode (``num_pairs`` of them): a side with no object is a broken image, and
      counting "no object" as a class would credit images broken on both sides at once
      with dependence. Plug-in, with ``miller_madow`` beside it and, as ``chance``, the
      plug-in bias of independent sides at this count.
    """
    table = class_table(pairs_classes(pixels))
    baseline = independence_baseline(table)
    agreement = float(np.trace(table[:-1, :-1]) / table.sum())
    pairs = table[:-1, :-1]  # (9, 9): both sides decoded
    n = int(pairs.sum())
    return {
        "pairs_independence_baseline": {"value": baseline},
        "pairs_excess_agreement": {
            "value": agreement - baseline,
            "agreement": agreement,
            "independence_baseline": baseline,
            "chance": 0.0,
        },
        "pairs_mutual_information": {
            "value": mutual_information(pairs) if n else math.nan,
            "miller_madow": mutual_information(pairs, miller_madow=True) if n else math.nan,
            "chance": plug_in_bias(pairs) if n else math.nan,
            "num_pairs": n,
        },
    }


@PROBE_SCORES.register("pairs")
def pairs() -> ProbeScore:
    """Agreement of the two distant objects' shape and colour (higher is better)."""
    chance = 1 / (len(SHAPES) * len(PALETTE))
    return ProbeScore(
        "pairs_agreement", pairs_agreement, chance=chance, dependence=pairs_dependence
    )
