"""Will a run fit its device? G's and D's memory estimated up front on the meta device.

Parameters are counted, and the tensors autograd saves for backward are summed over G's and
D's forward passes on ``torch.device("meta")``, which carries shapes but allocates nothing:
``width: 100000`` is refused in a second instead of dying in its train job trying to
allocate tens of GiB. (Measured: the estimate is within 1.2x of a CPU step's peak.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from sagan.config import ModelConfig
from sagan.errors import ConfigError
from sagan.models.backbone import build_models

GIB = 2**30
FP32 = 4  # bytes: estimates assume fp32 (bf16 / fp16 autocast only lowers them)
# Per parameter: the weight, its gradient and Adam's two moments.
COPIES_PER_PARAMETER = 4


@dataclass(frozen=True)
class MemoryEstimate:
    parameters: int  # bytes of G's and D's weights, gradients, Adam state (and G's EMA)
    activations: int  # bytes autograd keeps for one training step's backward

    @property
    def total(self) -> int:
        return self.parameters + self.activations


@contextmanager
def meta_device() -> Iterator[None]:
    """Modules built here get meta tensors (shapes, no memory). Spectral norm's 15 power
    iterations at init mean nothing on them, yet took most of a meta build's time (0.4 s per
    G and D), and the first normal_ init of a meta tensor (an embedding's) loads torch's
    decompositions, 2.6 s of every study check: both are skipped on meta tensors."""
    norm = torch.nn.utils.parametrizations._SpectralNorm
    power_method, init_normal = norm._power_method, torch.nn.init.normal_
    norm._power_method = lambda self, *args: None if args[0].is_meta else power_method(self, *args)
    torch.nn.init.normal_ = lambda t, *args, **kw: t if t.is_meta else init_normal(t, *args, **kw)
    try:
        with torch.device("meta"):
            yield
    finally:
        norm._power_method, torch.nn.init.normal_ = power_method, init_normal


class _SavedBytes:
    """Bytes of the tensors autograd saves for backward (each tensor once): what a training
    step holds between its forward and backward passes."""

    def __init__(self) -> None:
        self.saved: dict[int, int] = {}
        self._alive: list[torch.Tensor] = []  # held so that ids stay unique while counting

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        self.saved[id(t)] = t.numel() * FP32
        self._alive.append(t)
        return t

    @property
    def bytes(self) -> int:
        return sum(self.saved.values())


def estimate_memory(
    model: ModelConfig,
    variant: str,
    options: dict[str, Any] | None,
    *,
    resolution: int,
    batch: int,
    channels: int = 3,
    num_classes: int = 0,
    frames: int = 0,
    ema: bool = False,
) -> MemoryEstimate:
    """Bytes one training step of ``variant`` needs: weights, gradients and Adam state of G
    and D (plus G's EMA copy), and the activations of the larger of the two steps (G's step
    runs G and D on a batch; D's runs D on real + fake, twice the batch)."""
    with meta_device():
        G, D = build_models(
            model,
            variant,
            options,
            image_size=resolution,
            channels=channels,
            num_classes=num_classes,
            frames=frames,
        )
        g_params = sum(p.numel() for p in G.parameters())
        d_params = sum(p.numel() for p in D.parameters())
        y = torch.zeros(batch, dtype=torch.long) if num_classes else None
        counted = _SavedBytes()
        with torch.autograd.graph.saved_tensors_hooks(counted.pack, lambda t: t):
            fake = G(torch.randn(batch, G.z_dim), y)
            g_bytes = counted.bytes
            D(fake, y)
            d_bytes = counted.bytes - g_bytes
    params = COPIES_PER_PARAMETER * (g_params + d_params) + (g_params if ema else 0)
    return MemoryEstimate(parameters=params * FP32, activations=g_bytes + 2 * d_bytes)


def local_device() -> str:
    """Where training would run on this machine: its GPU if it has one, else its CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_memory(device: str | None) -> tuple[int, str] | None:
    """(bytes, name) of the memory a run on ``device`` has: a GPU's total memory, or the
    machine's RAM; None where it cannot be known here (cuda asked on a host without one).
    ``device`` None: this machine's GPU if it has one, else its CPU."""
    device = device or local_device()
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            return None
        index = int(device.split(":")[1]) if ":" in device else 0
        props = torch.cuda.get_device_properties(index)
        return props.total_memory, f"the GPU's {props.total_memory / GIB:.1f} GiB ({props.name})"
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return ram, f"this machine's {ram / GIB:.1f} GiB of RAM"


def check_fits(estimate: MemoryEstimate, device: str | None, where: str) -> None:
    """A ConfigError with the numbers if the estimate exceeds the device's memory."""
    available = device_memory(device)
    if available is None or estimate.total <= available[0]:
        return
    raise ConfigError(
        f"{where} needs about {estimate.total / GIB:.1f} GiB "
        f"(weights, gradients and Adam state {estimate.parameters / GIB:.1f} GiB, activations "
        f"{estimate.activations / GIB:.1f} GiB), more than {available[1]}: lower model.width, "
        "the resolution or train.batch_size, or skip this check with sagan validate --force"
    )
