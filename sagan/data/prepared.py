"""Prepare a dataset once per resolution: resized uint8 images, a held-out split, subsets.

The training pool is stored in a class-balanced order, so the subset of size n is its first
n entries: subsets are nested (the 1k subset contains the 500 one) and balanced. The
held-out split is disjoint from the pool and never trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from sagan.data.kinds import DatasetKind, kind_of_pixels
from sagan.data.meta import DataMeta
from sagan.data.pil_modes import to_rgb8
from sagan.data.registry import DATASETS, RawVideos
from sagan.errors import ConfigError, DataError
from sagan.io import atomic_torch_save


@dataclass(frozen=True)
class PreparedData:
    images: torch.Tensor  # (N, C, H, W) uint8; video: (N, C, T, H, W)
    labels: torch.Tensor  # (N,) int64
    train_order: torch.Tensor  # indices of the training pool, class-balanced order
    heldout: torch.Tensor  # indices of the held-out split
    meta: DataMeta
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # more per-item labels

    @property
    def kind(self) -> DatasetKind:
        return kind_of_pixels(self.images)

    def subset(self, size: int | str) -> torch.Tensor:
        """Indices of the first ``size`` pool images ("full": the whole pool)."""
        pool = len(self.train_order)
        if size == "full":
            return self.train_order
        if not isinstance(size, int) or size <= 0:
            raise ConfigError(f"data size must be a positive integer or 'full', got {size!r}")
        if size > pool:
            raise ConfigError(
                f"data size {size} exceeds the {pool} training images of "
                f"{self.meta.dataset!r} (after the held-out split); use at most {pool} "
                "or 'full'"
            )
        return self.train_order[:size]


PROGRESS_ABOVE = 5000  # images; smaller sets resize in seconds and need no progress bar


def _as_pil(image: np.ndarray | Image.Image) -> Image.Image:
    """An (H, W, C) uint8 array (C = 1: grey) or a PIL image, as a PIL image."""
    if isinstance(image, Image.Image):
        return image
    return Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)


def resize(images: Sequence[np.ndarray | Image.Image] | np.ndarray, size: int) -> np.ndarray:
    """Deterministic, antialiased (PIL bicubic) resize of N images to (N, size, size, C) uint8.

    Items are (H, W, C) uint8 arrays or PIL images, possibly decoded lazily on indexing; only
    the output is held in memory. The first image fixes C: grey ("L") gives 1 channel, anything
    else is converted to 8-bit RGB (sagan.data.pil_modes).
    """
    n = len(images)
    if n == 0:
        raise DataError("the dataset has no images to resize; check its source")
    mode = "L" if _as_pil(images[0]).mode == "L" else "RGB"
    out = np.empty((n, size, size, 1 if mode == "L" else 3), dtype=np.uint8)
    for i in tqdm(range(n), desc="resize", unit="img", disable=n <= PROGRESS_ABOVE):
        pil = _as_pil(images[i])
        pil = pil if pil.mode == mode else to_rgb8(pil) if mode == "RGB" else pil.convert(mode)
        arr = np.asarray(pil.resize((size, size), Image.Resampling.BICUBIC))
        out[i] = arr.reshape(size, size, -1)
    return out


def resize_videos(videos: Sequence[np.ndarray] | np.ndarray, size: int) -> np.ndarray:
    """N clips (T, H, W, C) -> (N, T, size, size, C) uint8; clips already that size are kept."""
    first = np.asarray(videos[0])
    if isinstance(videos, np.ndarray) and first.shape[1:3] == (size, size):
        return videos
    return np.stack([resize(np.asarray(videos[i]), size) for i in range(len(videos))])


def balanced_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All indices, shuffled within each class, then dealt class by class (round robin)."""
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    longest = max(len(p) for p in per_class)
    dealt = [p[i] for i in range(longest) for p in per_class if i < len(p)]
    return np.asarray(dealt, dtype=np.int64)


def prepare(
    dataset: str,
    resolution: int,
    out: str | Path,
    *,
    heldout: int,
    seed: int = 0,
    options: dict | None = None,
) -> PreparedData:
    options = dict(options or {})
    if DATASETS.accepts(dataset, "resolution"):  # procedural sources draw at the target size
        options["resolution"] = resolution
    raw = DATASETS.build(dataset, options)
    if not 0 < heldout < len(raw.images):
        raise ConfigError(
            f"heldout={heldout} for {dataset!r} must be between 1 and {len(raw.images) - 1}"
        )
    order = balanced_order(raw.labels, np.random.default_rng(seed))
    if isinstance(raw, RawVideos):
        images = resize_videos(raw.videos, resolution).transpose(0, 4, 1, 2, 3)  # (N,C,T,H,W)
    else:
        images = resize(raw.images, resolution).transpose(0, 3, 1, 2)  # (N, C, H, W)
    extra = getattr(raw, "extra", {})
    data = PreparedData(
        images=torch.from_numpy(np.ascontiguousarray(images)),
        labels=torch.from_numpy(raw.labels),
        heldout=torch.from_numpy(np.sort(order[:heldout])),
        train_order=torch.from_numpy(order[heldout:]),
        meta=DataMeta(
            dataset=dataset,
            resolution=resolution,
            channels=int(images.shape[1]),
            num_classes=int(len(np.unique(raw.labels))),
            seed=seed,
            frames=int(images.shape[2]) if images.ndim == 5 else 0,
        ),
        extra={k: torch.from_numpy(np.asarray(v)) for k, v in extra.items()},
    )
    atomic_torch_save(out, data.__dict__ | {"meta": data.meta.to_dict()})  # plain tensors/dicts
    return data


def load_prepared(path: str | Path) -> PreparedData:
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"prepared data {path} does not exist; create it with "
            f"'sagan prepare DATASET --resolution R --out {path}' or run the workflow"
        )
    try:
        saved = torch.load(path, weights_only=True)
        return PreparedData(**saved | {"meta": DataMeta.from_dict(saved["meta"])})
    except Exception as err:
        raise DataError(
            f"prepared data {path} is unreadable ({err}); delete it and re-run"
        ) from err
