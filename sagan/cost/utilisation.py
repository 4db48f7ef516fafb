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

from sagan.bench.timing import sync

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def peak_kind(device: str, precision: str) -> str:
    """The math the step's bulk runs in: on CUDA, fp32 convolutions run as TF32 when cuDNN
    allows it (PyTorch's default), so their peak is TF32's, not strict fp32's."""
    if precision == "fp32" and device.startswith("cuda") and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return precision


def matmul_peak_flops(
    device: str = "cpu", precision: str = "fp32", size: int | None = None, repeats: int = 5
) -> float:
    """FLOP/s (2 n^3 per n x n product) of the median of ``repeats`` square matmuls, in the
    math of ``peak_kind(device, precision)``."""
    n = size or (8192 if device.startswith("cuda") else 2048)
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device, DTYPES[precision]) for _ in range(2))
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


def step_flops(step: Callable[[], object]) -> int:
    """FLOPs of one call of ``step`` (forward and backward), as torch's FlopCounterMode counts
    them: matmuls, convolutions and fused attention; element-wise ops are not counted."""
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())
