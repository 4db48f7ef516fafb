"""The ResNet backbone of SNGAN and BigGAN, with attention slots by feature-map resolution.

Residual blocks as in Miyato et al. 2018 (appendix B) and Brock et al. 2019:
G: z -> linear -> 4x4 -> one ResBlockUp per doubling (BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3,
shortcut: upsample + 1x1 conv) -> BN-ReLU-conv3x3-tanh.
D: an "optimized" first block to S/2 (conv-ReLU-conv-avgpool, shortcut: avgpool + 1x1 conv),
then one ResBlockDown per halving down to 4x4 (ReLU-conv-ReLU-conv-avgpool, shortcut: 1x1 conv
+ avgpool) -> ReLU -> sum over positions -> linear logit.
Spectral norm on every conv and linear of G and D, attention blocks included (as SAGAN).

Channels: a feature map of side r has c(r) = width * min(8, S // r) channels in both nets, S
the image size. G's last map (side S) has ``width``; each halving of the side doubles the
channels, up to 8 * width. At S = 32: G 4: 8w, 8: 4w, 16: 2w, 32: w; D 16: 2w, 8: 4w, 4: 8w.

Class conditioning (num_classes > 0): conditional BatchNorm in G's residual blocks (the output
BN stays plain, as in SNGAN and BigGAN) and the projection discriminator (Miyato & Koyama 2018):
logit = linear(h) + <embed(y), h>, with h the pooled features; the embedding is spectrally
normalised too, as in both papers' code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from sagan.errors import ConfigError
from sagan.models.backbone import BACKBONES, BackboneOptions
from sagan.models.dcgan import BASE, SlottedSequential, apply_spectral_norm
from sagan.models.spec import run_block
from sagan.nn.conditional_bn import ConditionalBatchNorm2d


def check_labels(y: Tensor | None, num_classes: int, net: str, batch: int) -> None:
    """A conditional net needs y; an unconditional one refuses it rather than ignore it."""
    if num_classes and y is None:
        raise ValueError(f"this {net} is class-conditional ({num_classes} classes): pass y (B,)")
    if not num_classes and y is not None:
        raise ValueError(f"this {net} is unconditional: call it without y")
    if y is not None and y.shape != (batch,):  # (B, 1) would broadcast in the projection
        raise ValueError(f"y must be (B,) = ({batch},) class ids, got {tuple(y.shape)}")


def batch_norm(channels: int, num_classes: int) -> nn.Module:
    return (
        ConditionalBatchNorm2d(channels, num_classes) if num_classes else nn.BatchNorm2d(channels)
    )


def normalise(bn: nn.Module, x: Tensor, y: Tensor | None) -> Tensor:
    return bn(x, y) if isinstance(bn, ConditionalBatchNorm2d) else bn(x)


class ResBlockUp(nn.Module):
    """G block: (B, C_in, r, r) -> (B, C_out, 2r, 2r); forward(x, y) for conditional BN."""

    def __init__(self, c_in: int, c_out: int, num_classes: int) -> None:
        super().__init__()
        self.bn1, self.bn2 = batch_norm(c_in, num_classes), batch_norm(c_out, num_classes)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor, y: Tensor | None) -> Tensor:
        h = F.relu(normalise(self.bn1, x, y))
        h = self.conv1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.conv2(F.relu(normalise(self.bn2, h, y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResBlockDown(nn.Module):
    """D block: (B, C_in, r, r) -> (B, C_out, r/2, r/2).

    ``first`` gives the optimized block for the image: no ReLU before the first conv (the
    input is pixels) and a shortcut that pools before its 1x1 conv (cheaper, same result).
    """

    def __init__(self, c_in: int, c_out: int, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(x if self.first else F.relu(x))  # not in place: x feeds the shortcut
        h = F.avg_pool2d(self.conv2(F.relu(h)), 2)
        if self.first:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        return h + F.avg_pool2d(self.shortcut(x), 2)


class Project(nn.Module):
    """G's first stage: z (B, z_dim) -> (B, C, 4, 4); takes y only to match the other stages."""

    def __init__(self, z_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.linear = nn.Linear(z_dim, channels * BASE * BASE)

    def forward(self, z: Tensor, y: Tensor | None) -> Tensor:
        return self.linear(z).view(z.shape[0], self.channels, BASE, BASE)  # (B, C, 4, 4)


class LabelledSlotted(SlottedSequential):
    """SlottedSequential whose stages are called as stage(x, y).

    Conditional BN needs the labels in every G block. Passing y down explicitly keeps the
    forward pass free of hidden state (rather than setting y on the blocks before each call);
    the attention blocks in the slots see only x, unless they condition on labels
    (``run_block``). Same layout and state-dict keys.
    """

    def step(self, i: int, x: Tensor, y: Tensor | None = None) -> Tensor:
        x = self.stages[i](x, y)
        r = str(self.resolutions[i])
        return run_block(self.blocks[r], x, y) if r in self.blocks else x

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        for i in range(len(self.stages)):
            x = self.step(i, x, y)
        return x


class Generator(nn.Module):
    def __init__(self, z_dim: int, num_classes: int, body: nn.Module, out: nn.Module) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.body = body
        self.out = out

    # The growth interface (sagan.models.progressive): stem -> slotted stages -> to_rgb.
    @property
    def slotted(self) -> LabelledSlotted:
        return self.body

    @property
    def to_rgb(self) -> nn.Module:
        return self.out

    def stem(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """z itself: the first slotted stage (Project) makes the 4x4 map."""
        check_labels(y, self.num_classes, "generator", z.shape[0])
        return z

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.out(self.body(self.stem(z, y), y))  # (B, channels, S, S) in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, body: nn.Module, top_channels: int, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.body = body
        self.logit = nn.Linear(top_channels, 1)
        # The projection term; None (not a zero embedding) when unconditional.
        self.embed = nn.Embedding(num_classes, top_channels) if num_classes else None

    @property
    def slotted(self) -> SlottedSequential:
        return self.body

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        check_labels(y, self.num_classes, "discriminator", x.shape[0])
        return self.head(self.body(x, y), y)

    def head(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        """The last feature map (B, C, 4, 4) -> logits (B,)."""
        h = F.relu(h).sum(dim=(2, 3))  # (B, C): global sum pooling
        logit = self.logit(h).squeeze(1)  # (B,)
        if self.embed is not None:
            logit = logit + (self.embed(y) * h).sum(dim=1)  # projection (Miyato & Koyama 2018)
        return logit


@BACKBONES.register("resnet", tags=("image", "progressive"))
@dataclass(frozen=True)
class ResNet(BackboneOptions):
    """SNGAN/BigGAN residual G and D, spectral norm in both; class-conditional if num_classes."""

    def __post_init__(self) -> None:
        if self.image_size < 16 or not math.log2(self.image_size).is_integer():
            raise ConfigError(
                "resnet backbone needs a power-of-two image size >= 16 (16, 32, 64, 128, "
                f"256, ...), got {self.image_size}"
            )
        if self.num_classes < 0:
            raise ConfigError(f"num_classes must be >= 0, got {self.num_classes}")

    def _channels(self, r: int) -> int:
        return self.width * min(8, self.image_size // r)

    def slot_channels(self) -> dict[str, dict[int, int]]:
        n = int(math.log2(self.image_size // BASE))
        g = {BASE * 2**i: self._channels(BASE * 2**i) for i in range(n + 1)}  # 4, ..., S
        d = {BASE * 2**i: self._channels(BASE * 2**i) for i in range(n)}  # 4, ..., S/2
        return {"g": g, "d": d}

    def generator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch = self.slot_channels()["g"]
        res = sorted(ch)  # 4, 8, ..., S
        stages: list[tuple[int, nn.Module]] = [(BASE, Project(self.z_dim, ch[BASE]))]
        for r_in, r_out in zip(res, res[1:], strict=False):
            stages.append((r_out, ResBlockUp(ch[r_in], ch[r_out], self.num_classes)))
        c = ch[self.image_size]
        out = nn.Sequential(
            nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, self.channels, 3, 1, 1), nn.Tanh()
        )
        g = Generator(self.z_dim, self.num_classes, LabelledSlotted(stages, slots), out)
        return apply_spectral_norm(g)

    def discriminator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch = self.slot_channels()["d"]
        res = sorted(ch, reverse=True)  # S/2, ..., 4
        stages: list[tuple[int, nn.Module]] = [
            (res[0], ResBlockDown(self.channels, ch[res[0]], first=True))
        ]
        for r_in, r_out in zip(res, res[1:], strict=False):
            stages.append((r_out, ResBlockDown(ch[r_in], ch[r_out])))
        body = SlottedSequential(stages, slots)
        d = apply_spectral_norm(Discriminator(body, ch[BASE], self.num_classes))
        if d.embed is not None:
            spectral_norm(d.embed)
        return d
