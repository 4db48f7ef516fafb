"""Reference features of a real split, computed once per (dataset, resolution, extractor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sagan.data import PreparedData
from sagan.errors import DataError
from sagan.io import atomic_torch_save
from sagan.metrics.extractors import extract, load_extractor

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
    pixels = data.images[split_indices(data, split)].float()
    features = extract(net, pixels, device=device)
    meta = {
        "dataset": data.meta["dataset"],
        "resolution": data.meta["resolution"],
        "split": split,
        "count": len(features),
        "extractor": extractor,
        "extractor_file": str(extractor_path),
    }
    atomic_torch_save(out, {"features": features, "meta": meta})
    return meta


def load_reference(path: str | Path) -> tuple[np.ndarray, dict]:
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"reference features {path} do not exist; create them with "
            "'sagan reference ...' or run the workflow"
        )
    saved = torch.load(path, weights_only=True)
    return saved["features"].numpy(), saved["meta"]
