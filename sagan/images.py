"""Conversions between uint8 images, model range [-1, 1], and PNG sample grids."""

from __future__ import annotations

import io
from pathlib import Path

from torch import Tensor
from torchvision.utils import make_grid, save_image

from sagan.io import atomic_write_bytes


def to_model_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


def to_pixel_range(images: Tensor) -> Tensor:
    """Model output [-1, 1] -> float [0, 255], rounded as a saved uint8 image would be.

    clean-fid expects [0, 255] and silently clips anything else, so clamp here, visibly.
    """
    return images.add(1.0).mul(127.5).clamp(0.0, 255.0).round()


def save_grid(images: Tensor, path: str | Path, nrow: int = 8) -> None:
    """A PNG grid of [-1, 1] images, written atomically."""
    grid = make_grid(
        images.detach().cpu().float(),
        nrow=nrow,
        padding=2,
        normalize=True,
        value_range=(-1, 1),
        pad_value=1.0,
    )
    buf = io.BytesIO()
    save_image(grid, buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
