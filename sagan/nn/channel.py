"""Channel attention (squeeze-and-excitation) and CBAM's channel + spatial-map attention.

Each block is a gated residual, y = x + gamma * (attended(x) - x) with gamma starting at 0,
so like the SAGAN block it starts as the identity and can be dropped into any slot without
disturbing the backbone at initialisation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GatedResidual(nn.Module):
    """y = x + gamma * (f(x) - x); gamma is a learned scalar starting at 0."""

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(()))

    def attend(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return x + self.gamma * (self.attend(x) - x)


class SqueezeExcitation(GatedResidual):
    """SE (Hu et al. 2018, eq. 2-4): x * sigmoid(W2 relu(W1 avgpool(x))), reduction r."""

    def __init__(self, channels: int, *, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1)
        )

    def attend(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(self.mlp(x.mean(dim=(2, 3), keepdim=True)))  # (B, C, 1, 1)


class CBAM(GatedResidual):
    """CBAM (Woo et al. 2018, eq. 2-3): channel attention from average- and max-pooled
    descriptors through a shared MLP, then a spatial map from a 7x7 conv over the channel-wise
    average and max."""

    def __init__(self, channels: int, *, reduction: int = 8, kernel_size: int = 7) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1)
        )
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def attend(self, x: Tensor) -> Tensor:
        avg, peak = x.mean(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
        x = x * torch.sigmoid(self.mlp(avg) + self.mlp(peak))  # channel gate (B, C, 1, 1)
        pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], 1)  # (B,2,H,W)
        return x * torch.sigmoid(self.spatial(pooled))  # spatial gate (B, 1, H, W)
