"""How far each attention kernel's output is from naive attention's, on the same input.

The reference is the naive kernel in fp32; every arm (naive included) runs in the asked
precision, so a bf16 row shows rounding and a fused kernel's reordering together. top-k
and linear attention compute another function: their distance is the approximation, not a
bug, while sdpa and auto should sit at rounding level.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from sagan.bench.attention import (
    GIB,
    IMPLS,
    PRECISIONS,
    arm_label,
    arms_of,
    build_blocks,
    make_input,
    needed_bytes,
    token_map,
)


@torch.no_grad()
def max_abs_diffs(
    tokens: int | str,
    *,
    impls: Sequence[str] = IMPLS,
    top_k: float = 0.125,
    batch: int = 8,
    channels: int = 64,
    chunk_size: int = 256,
    precision: str = "fp32",
    device: str = "cpu",
    memory_cap_gib: float = 4.0,
) -> dict[str, float | None]:
    """max |out - naive fp32 out| of each arm's forward (arm label -> value); None for all
    where the naive reference's weights would pass ``memory_cap_gib`` (forward only: one
    N x N matrix, a third of the training step's)."""
    n, _, _ = token_map(tokens)
    arms = arms_of(impls, (top_k,))
    if needed_bytes("naive", n, batch, chunk_size) / 3 > memory_cap_gib * GIB:
        return {arm_label(arm): None for arm in arms}
    blocks = build_blocks([("naive", None), *arms], channels, chunk_size, device)
    x = make_input(batch, channels, tokens, device).detach()
    reference = blocks["naive", None](x).float()
    dtype = PRECISIONS[precision]
    diffs = {}
    for arm in arms:
        with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
            out = blocks[arm](x)
        diffs[arm_label(arm)] = (out.float() - reference).abs().max().item()
    return diffs
