"""GAN losses on raw discriminator logits."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


def hinge_d(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge loss for D (Lim & Ye 2017; used by SAGAN): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g(fake_logits: Tensor) -> Tensor:
    """Hinge loss for G: -E[D(G(z))]."""
    return -fake_logits.mean()


def ns_d(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Non-saturating (Goodfellow et al. 2014) D loss: softplus(-D(x)) + softplus(D(G(z)))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def ns_g(fake_logits: Tensor) -> Tensor:
    """Non-saturating G loss: softplus(-D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def wgan_d(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """WGAN critic loss (Arjovsky et al. 2017); WGAN-GP adds gradient_penalty."""
    return fake_logits.mean() - real_logits.mean()


def gradient_penalty(D, real: Tensor, fake: Tensor, y: Tensor | None) -> Tensor:
    """(||grad_x D(x)|| - 1)^2 at random interpolates of real and fake (Gulrajani et al. 2017).
    One mixing weight per sample over all its other dims: images (B, C, H, W) or clips
    (B, C, T, H, W). Pairs the first min(len(real), len(fake)) of each: a training set
    smaller than the batch gives fewer real images than fakes."""
    n = min(len(real), len(fake))
    real, fake, y = real[:n], fake[:n], (y[:n] if y is not None else None)
    alpha = torch.rand(real.shape[0], *[1] * (real.dim() - 1), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mixed, y).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class Loss(NamedTuple):
    """A GAN loss: D's from its logits on real and fake images, G's from D's on fakes."""

    discriminator: Callable[[Tensor, Tensor], Tensor]
    generator: Callable[[Tensor], Tensor]


LOSSES = {
    "hinge": Loss(hinge_d, hinge_g),
    "ns": Loss(ns_d, ns_g),
    "wgan-gp": Loss(wgan_d, hinge_g),  # + gradient_penalty, which the D step adds
}
