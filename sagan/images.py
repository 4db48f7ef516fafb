"""Conversions between uint8 images, model range [-1, 1], and PNG sample grids."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from sagan.io import atomic_write_bytes


def to_model_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div(127.5).sub(1.0)


def to_pixel_range(images: Tensor) -> Tensor:
    """Model output [-1, 1] -> float [0, 255], rounded as a saved uint8 image would be.

    clean-fid expects [0, 255] and silently clips anything else, so clamp here, visibly.
    """
    return images.add(1.0).mul(127.5).clamp(0.0, 255.0).round()


def grid_pixels(images: Tensor, nrow: int = 8, padding: int = 2) -> Tensor:
    """(B, C, H, W) images in [-1, 1] -> one (rows*(H+p)+p, nrow*(W+p)+p, C) uint8 grid on
    a white background, row by row."""
    pixels = to_pixel_range(images.detach().cpu().float()).to(torch.uint8)
    b, c, h, w = pixels.shape
    rows = -(-b // nrow)  # ceil
    grid = torch.full(
        (c, rows * (h + padding) + padding, nrow * (w + padding) + padding), 255, dtype=torch.uint8
    )
    for i, img in enumerate(pixels):
        y, x = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[:, y : y + h, x : x + w] = img
    return grid.permute(1, 2, 0)  # (H', W', C)


VIDEO_ROWS = 8  # clips shown in a video sample grid, one per row


def save_grid(images: Tensor, path: str | Path, nrow: int = 8) -> None:
    """A PNG grid of [-1, 1] images, written atomically; (B, C, T, H, W) clips are drawn one
    per row, frames left to right. (Drawn here, not with torchvision: importing torchvision
    costs every training job seconds.)"""
    if images.dim() == 5:
        clips = images[:VIDEO_ROWS]
        nrow = clips.shape[2]
        images = clips.transpose(1, 2).flatten(0, 1)  # (rows * T, C, H, W)
    grid = grid_pixels(images, nrow).numpy()
    pil = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    buf = io.BytesIO()
    pil.save(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
