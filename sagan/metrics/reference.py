"""Reference features of a real split, computed once per (dataset, resolution, extractor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sagan.data import PreparedData
from sagan.errors import DataError
from sagan.io import atomic_torch_save, load_torch_file
from sagan.metrics.extractors import extract, in_batches, load_extractor

SPLITS = ("heldout", "train")


def split_indices(data: PreparedData, split: str) -> torch.Tensor:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return data.heldout if split == "heldout" else data.train_order


def compute_reference(
    data: PreparedData,
    split: str,
    extractor: str,
    extractor_path: str | Path,
    out: str | Path,
    *,
    device: str = "cpu",
) -> dict:
    net = load_extractor(extractor, extractor_path, device)
    images = data.images[split_indices(data, split)]
    extra = {}
    if data.is_video:  # clip features, and every frame's for the per-frame FD
        extra["frame_features"] = extract_frames(net, images, device)
        features = extract(net, images.float(), 64, device=device)
    else:
        features = extract(net, images.float(), device=device)
    meta = {
        "dataset": data.meta["dataset"],
        "resolution": data.meta["resolution"],
        "split": split,
        "count": len(features),
        "extractor": extractor,
        "extractor_file": str(extractor_path),
    }
    atomic_torch_save(out, {"features": features, "meta": meta, **extra})
    return meta


def extract_frames(net, clips: torch.Tensor, device: str = "cpu", batch_size: int = 256):
    """Per-frame features of (N, C, T, H, W) clips, clip by clip: (N * T, D) float64."""
    from sagan.metrics.video_domain import frames_of

    return in_batches(net.frame_features, frames_of(clips), batch_size, device).double()


def load_frame_reference(path: str | Path) -> np.ndarray:
    """The per-frame features stored beside a video reference's clip features."""
    saved = torch.load(path, weights_only=True)
    if "frame_features" not in saved:
        raise DataError(f"{path} holds no per-frame features; it is not a video reference")
    return saved["frame_features"].numpy()


def load_reference(path: str | Path) -> tuple[np.ndarray, dict]:
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"reference features {path} do not exist; create them with "
            "'sagan reference ...' or run the workflow"
        )
    fix = "delete it and recreate it with 'sagan reference ...' or the workflow"
    saved = load_torch_file(path, "reference features", fix)
    if not isinstance(saved, dict) or not {"features", "meta"} <= saved.keys():
        raise DataError(f"reference features {path} hold no features and meta; {fix}")
    return saved["features"].numpy(), saved["meta"]
