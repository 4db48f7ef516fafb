"""The SAGAN self-attention block (Zhang et al. 2019, eq. 1-3).

From a feature map x (B, C, H, W): 1x1 convs give query and key with C/8 channels and
value with C channels; A = softmax(Q^T K) over the N = H*W positions; o = V A^T;
y = gamma * o + x, with gamma a learned scalar that starts at 0 (so the block starts as
the identity). SAGAN does not scale the logits by 1/sqrt(d); neither do we.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IMPLS = ("naive", "sdpa")


class SelfAttention2d(nn.Module):
    """Self-attention over the H*W positions of a (B, C, H, W) map; output has the same shape.

    impl="naive" materialises the N x N matrix (bmm + softmax): the reference.
    impl="sdpa" (default) calls torch's scaled_dot_product_attention, which uses the flash /
    memory-efficient kernels where the device has them. Both give the same output.
    """

    def __init__(
        self, channels: int, *, key_channels: int | None = None, impl: str = "sdpa"
    ) -> None:
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
        key_channels = key_channels or max(1, channels // 8)
        self.impl = impl
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = nn.Conv2d(channels, key_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def _qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, N, Ck)
        k = self.key(x).flatten(2).transpose(1, 2)  # (B, N, Ck)
        v = self.value(x).flatten(2).transpose(1, 2)  # (B, N, C)
        return q, k, v

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self._qkv(x)
        if self.impl == "naive":
            attn = torch.softmax(torch.bmm(q, k.transpose(1, 2)), dim=-1)  # (B, N, N)
            out = torch.bmm(attn, v)  # (B, N, C)
        else:
            out = F.scaled_dot_product_attention(q, k, v, scale=1.0)  # (B, N, C)
        out = out.transpose(1, 2).reshape(b, c, h, w)
        return self.gamma * out + x

    @torch.no_grad()
    def attention_maps(self, x: Tensor, queries: Tensor) -> Tensor:
        """Attention weights of the chosen query positions: (B, Q, H, W), rows sum to 1.

        queries: (Q,) flat indices into the H*W positions. Only Q rows are computed, so
        the N x N matrix is never materialised.
        """
        b, _, h, w = x.shape
        q, k, _ = self._qkv(x)
        logits = torch.bmm(q[:, queries], k.transpose(1, 2))  # (B, Q, N)
        return torch.softmax(logits, dim=-1).reshape(b, len(queries), h, w)
