"""Multi-scale sliced Wasserstein distance (SWD) of ProGAN (Karras et al. 2018, sec. 5 and
appendix D): 7x7 patches from each level of a Laplacian pyramid, compared per level.

Each image gives a Laplacian pyramid down to 16 px (the coarsest level is the Gaussian image
itself). From each level, 128 patches of 7x7 pixels per image are taken at random positions;
each set's patches are normalised per channel by their own mean and standard deviation (as
ProGAN does, so a level compares the shape of local structure, not its contrast); the
distance between the real and the generated patch sets is the sliced Wasserstein distance:
the mean, over 4 x 128 random unit directions, of the mean absolute difference between the
two sorted projections. Fine levels measure detail (edges, texture), the coarsest level
overall layout and colour. Reported x1e3, ProGAN's scale.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

PATCH = 7  # patch side (ProGAN's neighbourhood)
PATCHES_PER_IMAGE = 128
MIN_SIDE = 16  # the pyramid's coarsest level
REPEATS, DIRECTIONS = 4, 128  # 4 x 128 random projections per level
SCALE = 1e3  # ProGAN's tables report SWD x 10^3
CHUNK = 64  # images per pyramid pass: bounds memory at 256 px and above

_KERNEL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16  # binomial 5-tap Gaussian


def _blur(x: Tensor, gain: float = 1.0) -> Tensor:
    """Separable 5-tap Gaussian blur of (B, C, H, W), edges reflected. Sums of shifted
    slices: ~6x a depthwise conv2d on the CPU."""
    h, w = x.shape[-2:]
    k = (_KERNEL * gain).tolist()
    x = F.pad(x, (2, 2, 2, 2), mode="reflect")  # (B, C, H + 4, W + 4)
    x = sum(k[i] * x[..., i : i + w] for i in range(5))  # (B, C, H + 4, W)
    return sum(k[i] * x[..., i : i + h, :] for i in range(5))


def pyramid_down(x: Tensor) -> Tensor:
    return _blur(x)[..., ::2, ::2]


def pyramid_up(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Zeros between samples, then the blur with gain 2 per axis (the zeros' lost energy)."""
    up = x.new_zeros(*x.shape[:2], *size)
    up[..., ::2, ::2] = x
    return _blur(up, gain=2.0)


def laplacian_pyramid(x: Tensor, min_side: int = MIN_SIDE) -> list[Tensor]:
    """Levels of (B, C, H, W), finest first: band-pass differences down to ``min_side``,
    then the low-pass image at that side (an image no larger is one level, itself)."""
    levels = []
    while min(x.shape[-2:]) > min_side:
        down = pyramid_down(x)
        levels.append(x - pyramid_up(down, x.shape[-2:]))
        x = down
    return [*levels, x]


def level_sides(side: int, min_side: int = MIN_SIDE) -> list[int]:
    """The sides of the pyramid levels of a ``side`` px image, finest first."""
    sides = [side]
    while sides[-1] > min_side:
        sides.append((sides[-1] + 1) // 2)
    return sides


def _positions(n: int, sides: list[int], seed: int) -> list[Tensor]:
    """Per level, the (n, P, 2) top-left corners of each image's patches. Seeded: two sets
    of the same size and sides take their patches at the same places."""
    g = torch.Generator().manual_seed(seed)
    shape = (n, PATCHES_PER_IMAGE, 2)
    return [torch.randint(0, s - PATCH + 1, shape, generator=g) for s in sides]


def _take(level: Tensor, corners: Tensor) -> Tensor:
    """(B, C, S, S) level, (B, P, 2) corners -> (B * P, 7, 7, C) patches."""
    b, p = corners.shape[:2]
    steps = torch.arange(PATCH)
    rows = corners[:, :, 0, None, None] + steps[:, None]  # (B, P, 7, 1)
    cols = corners[:, :, 1, None, None] + steps[None, :]  # (B, P, 1, 7)
    images = torch.arange(b)[:, None, None, None]
    return level.permute(0, 2, 3, 1)[images, rows, cols].reshape(b * p, PATCH, PATCH, -1)


def _normalised(patches: Tensor) -> Tensor:
    """(M, 7, 7, C) -> (M, 49 C): per channel zero mean and unit deviation over the set."""
    mean = patches.mean(dim=(0, 1, 2), keepdim=True)
    std = patches.std(dim=(0, 1, 2), keepdim=True).clamp_min(1e-8)
    return ((patches - mean) / std).flatten(1)


def pyramid_descriptors(pixels: Tensor, seed: int) -> dict[int, Tensor]:
    """Level side -> (M, 49 C) normalised patch descriptors of (N, C, H, W) pixels."""
    n, _, h, w = pixels.shape
    if min(h, w) < PATCH:
        raise ValueError(f"SWD needs images of at least {PATCH} px, got {h}x{w}")
    sides = level_sides(min(h, w))
    corners = _positions(n, sides, seed)
    taken: list[list[Tensor]] = [[] for _ in sides]
    for start in range(0, n, CHUNK):
        batch = pixels[start : start + CHUNK].float()
        for i, level in enumerate(laplacian_pyramid(batch)):
            taken[i].append(_take(level, corners[i][start : start + CHUNK]))
    return {side: _normalised(torch.cat(t)) for side, t in zip(sides, taken, strict=True)}


def _sorted_projections(desc: Tensor, directions: Tensor, m: int) -> np.ndarray:
    """(M, D) @ (D, K), sorted per direction, read at ``m`` evenly spaced quantiles."""
    # numpy: its SIMD sort is ~6x torch's on the CPU
    proj = np.sort((desc @ directions).T.contiguous().numpy(), axis=1)  # (K, M)
    if len(desc) == m:
        return proj
    return proj[:, ((np.arange(m) + 0.5) * len(desc) / m).astype(np.int64)]


def sliced_wasserstein(a: Tensor, b: Tensor, seed: int) -> float:
    """Sliced W1 between (Na, D) and (Nb, D) point sets over REPEATS x DIRECTIONS seeded
    random unit directions. Unequal sets compare their quantiles at max(Na, Nb) points
    (exact for equal sizes, the elementwise difference of sorted projections)."""
    g = torch.Generator().manual_seed(seed)
    m = max(len(a), len(b))
    total = 0.0
    for _ in range(REPEATS):  # one (D, 128) block at a time bounds memory
        dirs = torch.randn(a.shape[1], DIRECTIONS, generator=g)
        dirs /= dirs.norm(dim=0, keepdim=True)
        pa, pb = _sorted_projections(a, dirs, m), _sorted_projections(b, dirs, m)
        total += float(np.abs(pa - pb).mean(dtype=np.float64))
    return total / REPEATS


def multiscale_swd(real: Tensor, fake: Tensor, seed: int) -> dict[int, float]:
    """Level side -> SWD x 1e3 between (N, C, H, W) real and generated pixels in [0, 255]."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real {tuple(real.shape[1:])} and fake {tuple(fake.shape[1:])} differ")
    real_desc = pyramid_descriptors(real, seed)
    fake_desc = pyramid_descriptors(fake, seed)
    return {
        side: SCALE * sliced_wasserstein(real_desc[side], fake_desc[side], seed + side)
        for side in real_desc
    }
