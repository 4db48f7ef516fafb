"""Feature-extractor registry: one interface, float images in [0, 255] -> (B, D) features."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

from sagan.registry import Registry

# An extractor is an nn.Module mapping (B, C, H, W) float pixels in [0, 255] to (B, D).
EXTRACTORS: Registry[Callable[..., nn.Module]] = Registry("extractor")


def load_extractor(name: str, path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    return EXTRACTORS.build(name, {"path": str(path)}).to(device).eval()


@torch.no_grad()
def in_batches(
    fn: Callable[[Tensor], Tensor],
    pixels: Tensor,
    batch_size: int,
    device: str | torch.device = "cpu",
) -> Tensor:
    """``fn`` over ``pixels`` in batches, each moved to ``device`` as float; the outputs come
    back to the CPU, concatenated (a whole pool at once on the device can be GBs)."""
    return torch.cat([fn(b.to(device).float()).cpu() for b in pixels.split(batch_size)])


def extract(
    extractor: nn.Module, images: Tensor, batch_size: int = 250, device: str | torch.device = "cpu"
) -> Tensor:
    """Features of [0, 255] images, batched; returns float64 on the CPU."""
    return in_batches(extractor, images, batch_size, device).double()
