"""Conversions between uint8 images, model range [-1, 1], and PNG sample grids."""

from __future__ import annotations

import io
from pathlib import Path

import torch
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


@torch.no_grad()
def generate(
    generator: torch.nn.Module,
    n: int,
    *,
    seed: int,
    batch_size: int,
    device: torch.device | str = "cpu",
) -> Tensor:
    """n images in [-1, 1] from latents drawn by a generator of their own, seeded."""
    rng = torch.Generator().manual_seed(seed)
    z_dim = generator.z_dim
    out = []
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), z_dim, generator=rng).to(device)
        out.append(generator(z).cpu())
    return torch.cat(out)
