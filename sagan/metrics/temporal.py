"""Temporal scores of clips: does what a clip shows stay the same, and does it move smoothly?

- ``temporal_consistency``: the fraction of clips in which a frame classifier finds the same
  non-empty set of classes (those with probability > 0.5) in every frame. A digit that turns
  into another half-way breaks it, and so does a frame it cannot read at all (a clip of
  unreadable blobs is not "consistent"). Occlusion lowers it for real clips too: compare
  with the real held-out value reported beside it.
- ``motion_smoothness``: 1 - (mean distance between consecutive frames) / (mean distance
  between any two frames of the clip), averaged over clips. Smooth motion changes little from
  one frame to the next (near 1); frames in random order score 0 in expectation; a clip
  that never changes scores 0 too (nothing moves, so nothing is smooth).
"""

from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-6  # pixels: a static clip's distances are all ~0


def temporal_consistency(frame_probs: Tensor, frames: int) -> float:
    """(B * T, classes) per-frame class probabilities, clip by clip -> fraction consistent."""
    present = (frame_probs > 0.5).reshape(-1, frames, frame_probs.shape[1])  # (B, T, classes)
    same = (present == present[:, :1]).all(dim=2).all(dim=1)
    readable = present[:, 0].any(dim=1)
    return float((same & readable).float().mean())


def motion_smoothness(clips: Tensor) -> float:
    """(B, C, T, H, W) pixels -> mean over clips of 1 - consecutive / all-pairs distance."""
    x = clips.float().flatten(3).transpose(1, 2).flatten(2)  # (B, T, C*H*W)
    step = (x[:, 1:] - x[:, :-1]).abs().mean(2).mean(1)  # (B,)
    pairs = torch.cdist(x, x, p=1) / x.shape[2]  # (B, T, T) mean absolute difference
    t = x.shape[1]
    any_pair = pairs.sum((1, 2)) / (t * (t - 1))
    return float((1 - (step + EPS) / (any_pair + EPS)).mean())
