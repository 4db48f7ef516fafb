"""Real batches in a seeded shuffled order, with a state that a checkpoint can hold.

Resuming from (generator state, this epoch's permutation, position) replays exactly the
batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from sagan.images import to_model_range


class RealBatches:
    """Endless (images in [-1, 1], labels or None) batches; the order is fixed by the seed."""

    def __init__(
        self,
        images: Tensor,
        labels: Tensor | None,
        batch_size: int,
        seed: int,
        layout: torch.memory_format = torch.contiguous_format,
    ) -> None:
        self.images, self.labels, self.batch_size, self.layout = images, labels, batch_size, layout
        self.rng = torch.Generator().manual_seed(seed)
        self.perm = torch.randperm(len(images), generator=self.rng)
        self.position = 0

    def __iter__(self) -> RealBatches:
        return self

    def __next__(self) -> tuple[Tensor, Tensor | None]:
        if self.position + self.batch_size > len(self.perm):  # epoch over: drop the remainder
            self.perm = torch.randperm(len(self.images), generator=self.rng)
            self.position = 0
        idx = self.perm[self.position : self.position + self.batch_size].to(self.images.device)
        self.position += self.batch_size
        real = to_model_range(self.images[idx]).contiguous(memory_format=self.layout)
        return real, (self.labels[idx] if self.labels is not None else None)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state(), "perm": self.perm.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
        self.perm, self.position = state["perm"].clone(), int(state["position"])
