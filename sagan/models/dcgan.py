"""The DCGAN backbone (Radford et al. 2016) with attention slots by feature-map resolution.

G: z -> linear -> 4x4 -> transposed-conv blocks with BatchNorm, doubling the side, halving
the channels -> 3x3 conv -> tanh. D: strided 4x4 convs (LeakyReLU 0.1) halving the side down
to 4x4 -> linear logit; spectral norm on every D layer, attention blocks included (as SAGAN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from sagan.errors import ConfigError
from sagan.models.backbone import BACKBONES, BackboneOptions
from sagan.models.spec import run_block

BASE = 4  # side of G's first and D's last feature map


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral norm (Miyato et al. 2018) on every conv and linear weight in ``module``."""
    for m in list(module.modules()):
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            spectral_norm(m)
    return module


class SlottedSequential(nn.Module):
    """Stages run in order; after the stage that outputs side r, the block in slot r (if any)."""

    def __init__(self, stages: list[tuple[int, nn.Module]], blocks: dict[int, nn.Module]):
        super().__init__()
        self.stages = nn.ModuleList(stage for _, stage in stages)
        self.resolutions = [r for r, _ in stages]
        self.blocks = nn.ModuleDict({str(r): b for r, b in blocks.items()})

    def step(self, i: int, x: Tensor, y: Tensor | None = None) -> Tensor:
        """Stage ``i`` and the block in its slot: the unit progressive growing adds. y: class
        ids for blocks that condition on them (``run_block``); stages see x."""
        x = self.stages[i](x)
        r = str(self.resolutions[i])
        return run_block(self.blocks[r], x, y) if r in self.blocks else x

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        for i in range(len(self.stages)):
            x = self.step(i, x, y)
        return x


def _unconditional(y: Tensor | None) -> None:
    if y is not None:
        raise ValueError("the dcgan backbone is unconditional: call it without class ids y")


class Generator(nn.Module):
    def __init__(self, z_dim: int, top_channels: int, body: nn.Module) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.top_channels = top_channels
        self.project = nn.Linear(z_dim, top_channels * BASE * BASE)
        self.body = body

    # The growth interface (sagan.models.progressive): stem -> slotted stages -> to_rgb.
    @property
    def slotted(self) -> SlottedSequential:
        return self.body[0]

    @property
    def to_rgb(self) -> nn.Module:
        return self.body[1]

    def stem(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        _unconditional(y)
        return self.project(z).view(z.shape[0], self.top_channels, BASE, BASE)  # (B, C, 4, 4)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.body(self.stem(z, y))


class Discriminator(nn.Module):
    def __init__(self, body: nn.Module, top_channels: int) -> None:
        super().__init__()
        self.body = body
        self.logit = nn.Linear(top_channels * BASE * BASE, 1)

    @property
    def slotted(self) -> SlottedSequential:
        return self.body

    def head(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        """The last feature map (B, C, 4, 4) -> logits (B,)."""
        _unconditional(y)
        return self.logit(torch.flatten(h, 1)).squeeze(1)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        _unconditional(y)
        return self.head(self.body(x), y)


@BACKBONES.register("dcgan", tags=("image", "progressive"))
@dataclass(frozen=True)
class DCGAN(BackboneOptions):
    """DCGAN: transposed-conv G with BatchNorm, strided-conv D with spectral norm."""

    def __post_init__(self) -> None:
        if self.num_classes:
            raise ConfigError(
                "the dcgan backbone is unconditional; use model.conditional: "
                "false, or a backbone with class conditioning (resnet)"
            )
        n = math.log2(self.image_size / BASE)
        if self.image_size < 8 or not n.is_integer():
            raise ConfigError(
                f"dcgan backbone needs a power-of-two image size >= 8, got {self.image_size}"
            )

    @property
    def n_stages(self) -> int:
        return int(math.log2(self.image_size // BASE))

    def slot_channels(self) -> dict[str, dict[int, int]]:
        n, w = self.n_stages, self.width
        g = {BASE * 2**i: w * 2 ** (n - i) for i in range(n + 1)}  # 4: 8w ... S: w
        d = {self.image_size // 2 ** (i + 1): w * 2**i for i in range(n)}  # S/2: w ... 4
        return {"g": g, "d": d}

    def generator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch = self.slot_channels()["g"]
        res = sorted(ch)  # 4, 8, ..., S
        stages: list[tuple[int, nn.Module]] = [
            (BASE, nn.Sequential(nn.BatchNorm2d(ch[BASE]), nn.ReLU()))
        ]
        for r_in, r_out in zip(res, res[1:], strict=False):
            up = nn.ConvTranspose2d(ch[r_in], ch[r_out], 4, 2, 1, bias=False)
            stages.append((r_out, nn.Sequential(up, nn.BatchNorm2d(ch[r_out]), nn.ReLU())))
        to_rgb = nn.Sequential(nn.Conv2d(ch[self.image_size], self.channels, 3, 1, 1), nn.Tanh())
        body = nn.Sequential(SlottedSequential(stages, slots), to_rgb)
        return Generator(self.z_dim, ch[BASE], body)

    def discriminator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch = self.slot_channels()["d"]
        stages, c_in = [], self.channels
        for r in sorted(ch, reverse=True):  # S/2, ..., 4
            conv = nn.Conv2d(c_in, ch[r], 4, 2, 1)
            stages.append((r, nn.Sequential(conv, nn.LeakyReLU(0.1))))
            c_in = ch[r]
        return apply_spectral_norm(Discriminator(SlottedSequential(stages, slots), c_in))
