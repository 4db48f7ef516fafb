"""What the dataset classifiers behind the domain extractors share: their training loop and
the per-feature scale their features are divided by."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def fit_classifier(
    model: nn.Module,
    loss_of: Callable[[Tensor, torch.Generator], Tensor],
    pool: Tensor,
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    lr: float,
) -> nn.Module:
    """Adam over ``epochs`` shuffled passes of the indices ``pool``; ``loss_of(indices, rng)``
    gives a batch's loss. The model is already on its device; it comes back in eval mode."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for idx in pool[torch.randperm(len(pool), generator=rng)].split(batch_size):
            loss = loss_of(idx, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()


def rms_scale(features: Tensor) -> Tensor:
    """Per-feature root-mean-square of (N, D) features; 1 for features that never fire.
    Dividing by it keeps FD and KID in a usable range (raw ReLU features reach hundreds)."""
    rms = features.square().mean(0).sqrt()
    return torch.where(rms > 1e-8, rms, torch.ones_like(rms))
