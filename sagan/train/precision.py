"""Numeric precision of a training step: fp32, bf16 autocast (CPU and GPU), fp16 + GradScaler.

bf16 keeps fp32's exponent range, so it needs no loss scaling; fp16 does, and its autocast
is only worth it (and only supported here) on CUDA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor

from sagan.errors import ConfigError

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """Autocast context for forward passes and a (possibly scaled) backward + optimiser step."""

    def __init__(self, name: str, device: torch.device | str) -> None:
        if name not in PRECISIONS:
            raise ConfigError(f"train.precision {name!r} is unknown; allowed: {list(PRECISIONS)}")
        self.name, self.device = name, torch.device(device)
        if name == "fp16" and self.device.type != "cuda":
            raise ConfigError(
                "train.precision fp16 needs a CUDA device (fp16 autocast + GradScaler); "
                "on CPU use bf16"
            )
        self.dtype = PRECISIONS[name]
        self.scaler = torch.amp.GradScaler("cuda") if name == "fp16" else None

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.dtype is None:
            yield
            return
        with torch.autocast(self.device.type, dtype=self.dtype):
            yield

    def step(self, loss: Tensor, optimizer: torch.optim.Optimizer) -> None:
        """zero_grad, backward and step; with fp16 the loss is scaled and inf/NaN steps skipped."""
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()
