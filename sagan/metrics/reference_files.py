"""Reading stored reference features (written by ``sagan.metrics.reference``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sagan.errors import DataError
from sagan.io import load_torch_file


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


def load_frame_reference(path: str | Path) -> np.ndarray:
    """The per-frame features stored beside a video reference's clip features."""
    saved = torch.load(path, weights_only=True)
    if "frame_features" not in saved:
        raise DataError(f"{path} holds no per-frame features; it is not a video reference")
    return saved["frame_features"].numpy()


def train_pool_features(path: str | Path, n: int) -> np.ndarray:
    """The features of the first ``n`` images (or clips) of the training pool at ``path``:
    the pool is stored in its class-balanced order, so a run's subset of n is its first n.
    A file that holds another split is an error naming the fix."""
    pool, meta = load_reference(path)
    if meta.get("split") != "train":
        raise DataError(
            f"{path} holds the {meta.get('split')} split, not the training pool; regenerate "
            "it with 'sagan reference --split train'"
        )
    return pool[:n]
