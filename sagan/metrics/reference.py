"""Reference features of a real split, computed once per (dataset, resolution, extractor).

The data's kind decides how: its extractor loader, and what is stored beside the features
(video: every frame's, for the per-frame FD). ``sagan.metrics.reference_files`` reads them.
"""

from __future__ import annotations

from pathlib import Path

import torch

from sagan.data import PreparedData
from sagan.io import atomic_torch_save
from sagan.metrics.protocols import protocol_of

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
    protocol = protocol_of(data)
    net = protocol.load_extractor(extractor, extractor_path, device)
    saved = protocol.reference_features(net, data.images[split_indices(data, split)], device)
    meta = {
        "dataset": data.meta.dataset,
        "resolution": data.meta.resolution,
        "split": split,
        "count": len(saved["features"]),
        "extractor": extractor,
        "extractor_file": str(extractor_path),
    }
    atomic_torch_save(out, {**saved, "meta": meta})
    return meta
