"""Achieved FLOP/s of a step against the device's measured matmul peak.

The peak is measured, not looked up: a large square matmul in the step's dtype on this
device, so "utilisation" reads as "fraction of what this machine's GEMM reaches".
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from sagan.cost.timing import sync

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def peak_kind(device: str, precision: str) -> str:
    """The math the step's bulk runs in: on CUDA, fp32 convolutions run as TF32 when cuDNN
    allows it (PyTorch's default), so their peak is TF32's, not strict fp32's."""
    if precision == "fp32" and device.startswith("cuda") and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return precision


def matmul_peak_flops(
    device: str = "cpu",
    precision: str = "fp32",
    size: int | None = None,
    repeats: int = 5,
    budget_s: float = 0.25,
) -> float:
    """FLOP/s (2 n^3 per n x n product) of the median of ``repeats`` square matmuls, in the
    math of ``peak_kind(device, precision)``.

    Without ``size``, n is 8192 on CUDA and up to 2048 on the CPU, shrunk so one product
    takes about ``budget_s``: a CPU without bf16 units emulates bf16 at ~1 % of its fp32
    rate (62 s for one 2048 product on a 2-core AVX2 machine), and a peak is a rate at any
    n that fills the cores."""
    n = size or (8192 if device.startswith("cuda") else _cpu_size(precision, budget_s))
    a, b = _operands(n, device, precision)
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = peak_kind(device, precision) == "tf32"
    try:
        torch.mm(a, b)  # warm-up: thread pools, kernel selection
        times = []
        for _ in range(repeats):
            sync(device)
            start = time.perf_counter()
            torch.mm(a, b)
            sync(device)
            times.append(time.perf_counter() - start)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return 2 * n**3 / statistics.median(times)


def _operands(n: int, device: str, precision: str) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device, DTYPES[precision]) for _ in range(2))
    return a, b


def _cpu_size(precision: str, budget_s: float, largest: int = 2048, probe: int = 256) -> int:
    """The largest power-of-two n <= ``largest`` whose product should take ``budget_s``,
    extrapolated (n^3) from one timed product at ``probe``."""
    a, b = _operands(probe, "cpu", precision)
    torch.mm(a, b)  # warm-up
    start = time.perf_counter()
    torch.mm(a, b)
    seconds = max(time.perf_counter() - start, 1e-9)
    n = probe
    while n < largest and seconds * (2 * n / probe) ** 3 <= budget_s:
        n *= 2
    return n


def step_flops(step: Callable[[], object]) -> int:
    """FLOPs of one call of ``step`` (forward and backward), as torch's FlopCounterMode counts
    them: matmuls, convolutions and fused attention; element-wise ops are not counted."""
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())
