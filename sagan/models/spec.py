"""What a variant is: attention blocks keyed by feature-map resolution, for G and D."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from torch import nn

# channels -> a (B, C, H, W) -> (B, C, H, W) module placed at one feature map (video
# backbones: (B, C, T, H, W)).
BlockFactory = Callable[[int], nn.Module]


@dataclass(frozen=True)
class VariantSpec:
    g_slots: Mapping[int, BlockFactory] = field(default_factory=dict)
    d_slots: Mapping[int, BlockFactory] = field(default_factory=dict)
    backbone: str | None = None  # a backbone this variant always runs on (video: "video")
