"""Real images beside the generated ones: a grid of a dataset's prepared images laid out as
its runs' sample grids are (``sagan.images.save_grid``), from the held-out split where it
has one, so the sample figure shows what the arms are trying to draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sagan.images import grid_pixels, to_model_range

PADDING = 2  # of save_grid's grids


def real_grid(data_path: str | Path, like: np.ndarray) -> tuple[np.ndarray, str]:
    """Prepared images at ``data_path`` in a grid of the shape of the sample grid ``like``
    ((H', W'[, C]) in [0, 1], as plt.imread gives it): the first held-out images (video: the
    first held-out clips, a clip per row, frames left to right), else the first training
    images. Returns the grid in [0, 1] and which split it shows, "held-out" or "train"."""
    from sagan.data import load_prepared

    data = load_prepared(data_path)
    split, index = ("held-out", data.heldout) if len(data.heldout) else ("train", data.train_order)
    images = data.images[index]  # (N, C, H, W) uint8; video (N, C, T, H, W)
    if images.dim() == 5:
        images = images.transpose(1, 2).flatten(0, 1)  # (N * T, C, H, W): clips as rows
        nrow = data.images.shape[2]
    else:
        nrow = (like.shape[1] - PADDING) // (images.shape[-1] + PADDING)
    rows = (like.shape[0] - PADDING) // (images.shape[-2] + PADDING)
    shown = to_model_range(images[: max(1, rows * nrow)])
    grid = grid_pixels(shown, max(1, nrow), PADDING).numpy().astype(np.float32) / 255
    return (grid[..., 0] if grid.shape[-1] == 1 else grid), split


def real_grids(
    runs: dict[str, Path], samples: dict[str, np.ndarray], root: Path
) -> dict[str, tuple[np.ndarray, str]]:
    """``real_grid`` per dataset, from the data file of a run of it (``runs``: dataset -> the
    run's config file; a relative data path starts at ``root``, the workflow's working
    folder) shaped like ``samples`` (dataset -> one of its sample grids); a dataset whose run
    config or data file is gone is left out."""
    from sagan.config import load_run_config
    from sagan.errors import ConfigError, DataError

    out = {}
    for dataset, config in runs.items():
        try:
            out[dataset] = real_grid(root / load_run_config(config).data.path, samples[dataset])
        except (ConfigError, DataError):
            continue
    return out
