"""Self-attention over video feature maps (B, C, T, H, W), on the image block's kernels.

``SelfAttention3d`` is full attention over all T*H*W positions. Its 1x1 projections are
pointwise, so the map is viewed as (B, C, T*H, W) and handed to ``SelfAttention2d``: the
same parameters, kernels (naive, sdpa, auto, topk) and attention-map read-out, exactly.

``FactorizedAttention3d`` is the separable form (DVD-GAN, Clark et al. 2019; also TimeSformer's
divided attention): each position attends over time at its own pixel, then over space in its
own frame, each with its own gamma. Cost O(N (T + HW)) instead of O(N^2), N = T*H*W.

Both take ``key_ratio`` (query/key channels C // key_ratio, the paper's C/8 by default) and
the other keyword options of ``SelfAttention2d``.
"""

from __future__ import annotations

from torch import Tensor, nn

from sagan.nn.attention import KEY_RATIO, SelfAttention2d


class SelfAttention3d(nn.Module):
    """Full self-attention over the T*H*W positions; output = gamma * O + x."""

    def __init__(self, channels: int, *, key_ratio: int = KEY_RATIO, **kwargs) -> None:
        super().__init__()
        if kwargs.get("form", "paper") != "paper":
            raise ValueError("3D attention uses the paper form (the official form pools 2x2)")
        self.attention = SelfAttention2d(channels, key_ratio=key_ratio, **kwargs)

    @property
    def gamma(self) -> nn.Parameter:
        return self.attention.gamma

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        return self.attention(x.reshape(b, c, t * h, w)).reshape(b, c, t, h, w)

    def attention_maps(self, x: Tensor, queries: Tensor) -> Tensor:
        """Weights of the chosen flat T*H*W query positions over the clip: (B, Q, T, H, W)."""
        b, c, t, h, w = x.shape
        maps = self.attention.attention_maps(x.reshape(b, c, t * h, w), queries)
        return maps.reshape(b, len(queries), t, h, w)


class FactorizedAttention3d(nn.Module):
    """Temporal attention (over T, per pixel), then spatial attention (over H*W, per frame)."""

    def __init__(self, channels: int, *, key_ratio: int = KEY_RATIO, **kwargs) -> None:
        super().__init__()
        if kwargs.get("form", "paper") != "paper":
            raise ValueError("factorized attention uses the paper form")
        self.temporal = SelfAttention2d(channels, key_ratio=key_ratio, **kwargs)
        self.spatial = SelfAttention2d(channels, key_ratio=key_ratio, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        # time: every (b, y, x) is a sequence of T tokens, seen as a (T x 1) map
        seq = x.permute(0, 3, 4, 1, 2).reshape(b * h * w, c, t, 1)
        x = self.temporal(seq).reshape(b, h, w, c, t).permute(0, 3, 4, 1, 2)
        # space: every (b, t) frame is an H x W map
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        return self.spatial(frames).reshape(b, t, c, h, w).transpose(1, 2)
