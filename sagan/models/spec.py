"""What a variant is: attention blocks keyed by feature-map resolution, for G and D."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from torch import Tensor, nn

# channels -> a (B, C, H, W) -> (B, C, H, W) module placed at one feature map (video
# backbones: (B, C, T, H, W)). A variant with ``labels`` builds its blocks as
# make(channels, num_classes) and they are called as block(x, y), y (B,) class ids.
BlockFactory = Callable[..., nn.Module]


@dataclass(frozen=True)
class Placement:
    """The two options of a variant that set where its blocks sit: each a list of
    feature-map sides, one option for G's slots and one for D's."""

    g: str
    d: str


@dataclass(frozen=True)
class VariantSpec:
    g_slots: Mapping[int, BlockFactory] = field(default_factory=dict)
    d_slots: Mapping[int, BlockFactory] = field(default_factory=dict)
    backbone: str | None = None  # a backbone this variant always runs on (video: "video")
    labels: bool = False  # blocks condition on class ids: needs model.conditional, >= 2 classes
    # the options that move its blocks (cost sweeps place them); None: the core never does
    placement: Placement | None = None


def takes_labels(block: nn.Module) -> bool:
    """Whether a slot's block is called as block(x, y) (it sets ``takes_labels``)."""
    return getattr(block, "takes_labels", False)


def run_block(block: nn.Module, x: Tensor, y: Tensor | None) -> Tensor:
    """A slot's block on x, and on the class ids y if it conditions on them."""
    return block(x, y) if takes_labels(block) else block(x)
