"""Generator inputs (latents z and, for class-conditional models, class ids y) and sampling."""

from __future__ import annotations

import torch
from torch import Tensor


def sample_latents(
    n: int,
    z_dim: int,
    num_classes: int = 0,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor | None]:
    """z ~ N(0, I) of shape (n, z_dim), and y uniform over classes (None if unconditional).

    Drawn on the CPU from ``generator`` so a seed gives the same latents on any device.
    """
    z = torch.randn(n, z_dim, generator=generator)
    y = torch.randint(num_classes, (n,), generator=generator) if num_classes else None
    return z.to(device), (y.to(device) if y is not None else None)


@torch.no_grad()
def generate(
    generator: torch.nn.Module,
    n: int,
    *,
    seed: int,
    batch_size: int,
    num_classes: int = 0,
    device: torch.device | str = "cpu",
) -> Tensor:
    """n images in [-1, 1] (on the CPU) from latents of their own RNG, seeded: two calls agree."""
    images, _ = generate_labelled(
        generator, n, seed=seed, batch_size=batch_size, num_classes=num_classes, device=device
    )
    return images


@torch.no_grad()
def generate_labelled(
    generator: torch.nn.Module,
    n: int,
    *,
    seed: int,
    batch_size: int,
    num_classes: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor | None]:
    """``generate``'s n images, and the class ids (n,) they were conditioned on (None if
    unconditional), both on the CPU."""
    rng = torch.Generator().manual_seed(seed)
    out, labels = [], []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        z, y = sample_latents(count, generator.z_dim, num_classes, generator=rng, device=device)
        out.append(generator(z, y).cpu())
        labels.append(y.cpu() if y is not None else None)
    return torch.cat(out), (torch.cat(labels) if num_classes else None)
