"""Does the extractor see what it should? Known degradations of real images must rank in
order of FD: the real-vs-real floor, then mild, then strong Gaussian noise; mild, then strong
blur; and mode dropping (only some classes kept) above the floor, more classes dropped
higher. A non-monotone row means the extractor cannot tell that degradation apart, and an
effect measured with it is suspect.

The degraded images are the noise floor's own generated side (``num_samples`` training-pool
images per resample, ``sagan.metrics.noise_floor.floor_subsets``), scored against the
held-out reference: strength 0 is then exactly the floor, and each row differs from it by the
degradation alone. Degrading the held-out reference images themselves would compare a set
with a copy of itself, whose FD at a mild degradation lies *under* the sampling floor for
reasons that have nothing to do with the extractor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
import torchvision.transforms.functional as TF
from torch import Tensor, nn

from sagan.data import PreparedData
from sagan.metrics.distances import frechet_distance
from sagan.metrics.extractors import in_batches
from sagan.metrics.noise_floor import floor_subsets

# (B, C, H, W) float pixels in [0, 255], a strength, a seeded generator -> the same, degraded
Degrade = Callable[[Tensor, float, torch.Generator], Tensor]


def gaussian_noise(pixels: Tensor, sigma: float, gen: torch.Generator) -> Tensor:
    """Additive noise of SD ``sigma`` (in 0-255 pixel units), clipped to the pixel range."""
    noise = torch.randn(pixels.shape, generator=gen).to(pixels.device) * sigma
    return (pixels + noise).clamp(0, 255)


def gaussian_blur(pixels: Tensor, sigma: float, gen: torch.Generator) -> Tensor:
    """Blur of SD ``sigma`` x the image side (so 16 and 256 px images lose alike)."""
    side = pixels.shape[-1]
    s = sigma * side
    kernel = min(2 * math.ceil(3 * s) + 1, 2 * (side // 2) - 1)  # reflect pad < side
    return TF.gaussian_blur(pixels, [kernel, kernel], [s, s])


# name -> (how, mild strength, strong strength); mode dropping is by class, not by pixel
PIXEL_DEGRADATIONS: dict[str, tuple[Degrade, float, float]] = {
    # digits, domain extractor: SD 8 was under the floor (0.06 +- 0.02), 32 gave 0.4, 96 gave 8
    "gaussian_noise": (gaussian_noise, 32.0, 96.0),  # pixel SD, of 255
    "gaussian_blur": (gaussian_blur, 1 / 32, 1 / 10),  # blur SD, of the side: 0.27 and 7
}
MODE_DROP = "mode_dropping"
MODE_DROP_STRENGTHS = (0.5, 0.8)  # the fraction of classes dropped (mild, strong)
FLOOR_SD_MARGIN = 2  # a first step must clear the floor's mean by this many of its SDs
CHECK_COLUMNS = [
    "extractor",
    "degradation",  # "none" (the floor), gaussian_noise, gaussian_blur, mode_dropping
    "strength",  # 0 for the floor; see PIXEL_DEGRADATIONS and MODE_DROP_STRENGTHS
    "fd",  # mean over the resamples
    "fd_sd",
    "num_samples",
    "expected_rank",  # 0 floor, 1 mild, 2 strong: FD must rise with it
    "ok",
]


def kept_classes(num_classes: int, dropped: float) -> np.ndarray:
    """The first classes, all but ``dropped`` of them (at least one)."""
    return np.arange(max(1, round(num_classes * (1 - dropped))))


def extractor_checks(
    data: PreparedData,
    net: nn.Module,
    heldout: np.ndarray,
    *,
    num_samples: int,
    extractor: str,
    resamples: int,
    floor: tuple[float, float],
    batch_size: int = 250,
    device: str = "cpu",
) -> list[dict]:
    """Rows (``CHECK_COLUMNS``) of FD against the held-out features (N, D) for each
    degradation of the floor's pool subsets; ``floor`` is the floor's FD (mean, SD)."""
    pool = data.train_order
    subsets = [pool[torch.as_tensor(i)] for i in floor_subsets(len(pool), num_samples, resamples)]

    def fd_of(images: Tensor, degrade: Callable[[Tensor], Tensor]) -> float:
        """FD of uint8 ``images`` (n, C, H, W), each batch degraded on the device (a whole
        set of 256 px floats would not fit in memory)."""
        features = in_batches(lambda b: net(degrade(b)), images, batch_size, device)
        return frechet_distance(features.double().numpy(), heldout)

    common = {"extractor": extractor, "num_samples": len(subsets[0])}
    rows = [{"degradation": "none", "strength": 0.0, "expected_rank": 0, "fd": floor[0]}]
    rows[0] |= {"fd_sd": floor[1], **common}
    for name, (how, *strengths) in PIXEL_DEGRADATIONS.items():
        for rank, s in enumerate(strengths, start=1):
            fds = []
            for r, idx in enumerate(subsets):
                gen = torch.Generator().manual_seed(r)  # one stream per resample, over batches
                fds.append(fd_of(data.images[idx], lambda b, h=how, s=s, g=gen: h(b, s, g)))
            rows.append(_row(name, s, rank, fds, common))
    if data.meta.num_classes > 1:
        rows += _mode_dropping(data, num_samples, resamples, fd_of, common)
    return mark_order(rows, floor_sd=floor[1])


def _mode_dropping(
    data: PreparedData,
    num_samples: int,
    resamples: int,
    fd_of: Callable[[Tensor, Callable[[Tensor], Tensor]], float],
    common: dict,
) -> list[dict]:
    """``num_samples`` pool images of the kept classes only (all of them when those classes
    hold fewer), drawn per resample as the floor's are."""
    pool = data.train_order
    labels = data.labels[pool].numpy()
    rows = []
    for rank, dropped in enumerate(MODE_DROP_STRENGTHS, start=1):
        keep = np.flatnonzero(np.isin(labels, kept_classes(data.meta.num_classes, dropped)))
        n = min(num_samples, len(keep))
        fds = []
        for r in range(resamples):
            pick = keep[np.random.default_rng(r).choice(len(keep), n, replace=False)]
            fds.append(fd_of(data.images[pool[torch.as_tensor(pick)]], lambda b: b))
        rows.append(_row(MODE_DROP, dropped, rank, fds, common | {"num_samples": n}))
    return rows


def _row(name: str, strength: float, rank: int, fds: list[float], common: dict) -> dict:
    sd = float(np.std(fds, ddof=1)) if len(fds) > 1 else math.nan
    return {"degradation": name, "strength": strength, "expected_rank": rank, **common} | {
        "fd": float(np.mean(fds)),
        "fd_sd": sd,
    }


def mark_order(rows: list[dict], *, floor_sd: float) -> list[dict]:
    """Each row's ``ok``: FD above the row one rank below it in its degradation (rank 1: the
    floor's mean plus ``FLOOR_SD_MARGIN`` SDs, so a step inside the floor's spread fails)."""
    floor = next(r["fd"] for r in rows if r["expected_rank"] == 0)
    out = []
    for row in rows:
        if row["expected_rank"] == 0:
            ok = True
        elif row["expected_rank"] == 1:
            ok = row["fd"] > floor + FLOOR_SD_MARGIN * floor_sd
        else:
            below = [
                r["fd"]
                for r in rows
                if r["degradation"] == row["degradation"]
                and r["expected_rank"] == row["expected_rank"] - 1
            ]
            ok = all(row["fd"] > b for b in below) and row["fd"] > floor
        out.append({**row, "ok": bool(ok)})
    return out


def check_warnings(checks: pd.DataFrame) -> list[str]:
    """One line per failed row, naming the dataset, extractor, degradation and strength."""
    failed = checks[~checks["ok"].astype(bool)]
    return [
        f"extractor check failed: {r.get('dataset', '?')} ({r['extractor']}): "
        f"FD of {r['degradation']} at strength {r['strength']:g} is {r['fd']:.3g}, not above "
        f"{'the floor' if r['expected_rank'] == 1 else 'its milder step'}"
        for _, r in failed.iterrows()
    ]
