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
