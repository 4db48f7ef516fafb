"""GAN losses on raw discriminator logits."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def hinge_d(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge loss for D (Lim & Ye 2017; used by SAGAN): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_g(fake_logits: Tensor) -> Tensor:
    """Hinge loss for G: -E[D(G(z))]."""
    return -fake_logits.mean()
