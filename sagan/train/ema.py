"""Exponential moving average of G's weights (Karras et al. 2018; Yazici et al. 2019): the G
that is sampled and evaluated when ``train.ema_decay`` > 0."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, G: nn.Module, decay: float, start: int) -> None:
        self.decay, self.start = decay, start
        self.model = copy.deepcopy(G).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, G: nn.Module, iteration: int) -> None:
        """Before ``start`` the average is G itself; then avg <- decay avg + (1 - decay) G.
        Buffers (BatchNorm statistics, spectral-norm vectors) are copied as they are."""
        decay = self.decay if iteration >= self.start else 0.0
        for avg, p in zip(self.model.parameters(), G.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - decay)
        for avg, b in zip(self.model.buffers(), G.buffers(), strict=True):
            avg.copy_(b)
