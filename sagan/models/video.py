"""The video backbone (VGAN / TGAN style): 3D transposed-conv G, 3D strided-conv D.

G: z -> linear -> (T0, 4, 4) -> stages that double the side (and the clip length, until it
reaches ``frames``) with BatchNorm -> 3x3x3 conv -> tanh, giving (B, C, T, H, W) in [-1, 1].
D mirrors it with spectral norm on every layer. Attention slots are keyed by the spatial
side of a stage, as in the image backbones; ``slot_shapes`` gives each slot's (T, H, W).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from sagan.errors import ConfigError
from sagan.models.backbone import BACKBONES, BackboneOptions
from sagan.models.dcgan import BASE, SlottedSequential


def _unconditional(y: Tensor | None) -> None:
    if y is not None:
        raise ValueError("the video backbone is unconditional: call it without class ids y")


class VideoGenerator(nn.Module):
    def __init__(self, z_dim: int, top: tuple[int, int], body: nn.Module) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.top = top  # (channels, frames) of the first feature map
        self.project = nn.Linear(z_dim, top[0] * top[1] * BASE * BASE)
        self.body = body

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        _unconditional(y)
        x = self.project(z).view(z.shape[0], self.top[0], self.top[1], BASE, BASE)
        return self.body(x)  # (B, C, T, H, W)


class VideoDiscriminator(nn.Module):
    def __init__(self, body: nn.Module, features: int) -> None:
        super().__init__()
        self.body = body
        self.logit = nn.Linear(features, 1)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        _unconditional(y)
        return self.logit(torch.flatten(self.body(x), 1)).squeeze(1)  # (B,)


@BACKBONES.register("video", tags=("video",))
@dataclass(frozen=True)
class Video(BackboneOptions):
    """3D transposed-conv G with BatchNorm, 3D strided-conv D with spectral norm (video)."""

    frames: int = 16

    def __post_init__(self) -> None:
        if self.num_classes:
            raise ConfigError("the video backbone is unconditional; set model.conditional: false")
        n = math.log2(self.image_size / BASE)
        if self.image_size < 8 or not n.is_integer():
            raise ConfigError(
                f"video backbone needs a power-of-two frame size >= 8, got {self.image_size}"
            )
        if self.frames < 1 or not math.log2(self.frames).is_integer():
            raise ConfigError(f"video backbone needs a power-of-two clip length, got {self.frames}")

    @property
    def n_stages(self) -> int:
        return int(math.log2(self.image_size // BASE))

    def slot_shapes(self) -> dict[str, dict[int, tuple[int, int, int]]]:
        """{"g": {side: (T, H, W)}, "d": {...}}: the clip length grows in G's last stages."""
        n = self.n_stages
        g = {BASE * 2**i: (max(1, self.frames // 2 ** (n - i)), BASE * 2**i, BASE * 2**i)
             for i in range(n + 1)}  # fmt: skip
        d = {side: g[side] for side in self.slot_channels()["d"]}  # D mirrors G
        return {"g": g, "d": d}

    def slot_channels(self) -> dict[str, dict[int, int]]:
        n, w = self.n_stages, self.width
        g = {BASE * 2**i: w * 2 ** (n - i) for i in range(n + 1)}
        d = {self.image_size // 2 ** (i + 1): w * 2**i for i in range(n)}
        return {"g": g, "d": d}

    def generator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch, shape = self.slot_channels()["g"], self.slot_shapes()["g"]
        res = sorted(ch)
        stages: list[tuple[int, nn.Module]] = [
            (BASE, nn.Sequential(nn.BatchNorm3d(ch[BASE]), nn.ReLU()))
        ]
        for r_in, r_out in zip(res, res[1:], strict=False):
            t_stride = shape[r_out][0] // shape[r_in][0]  # 2 while the clip grows, then 1
            up = nn.ConvTranspose3d(
                ch[r_in], ch[r_out], (2 + t_stride, 4, 4), (t_stride, 2, 2), 1, bias=False
            )
            stages.append((r_out, nn.Sequential(up, nn.BatchNorm3d(ch[r_out]), nn.ReLU())))
        to_rgb = nn.Sequential(nn.Conv3d(ch[self.image_size], self.channels, 3, 1, 1), nn.Tanh())
        body = nn.Sequential(SlottedSequential(stages, slots), to_rgb)
        return VideoGenerator(self.z_dim, (ch[BASE], shape[BASE][0]), body)

    def discriminator(self, slots: dict[int, nn.Module]) -> nn.Module:
        ch, shape = self.slot_channels()["d"], self.slot_shapes()["d"]
        stages, c_in, t_in = [], self.channels, self.frames
        for r in sorted(ch, reverse=True):  # S/2, ..., 4
            t_stride = t_in // shape[r][0]
            conv = nn.Conv3d(c_in, ch[r], (2 + t_stride, 4, 4), (t_stride, 2, 2), 1)
            stages.append((r, nn.Sequential(conv, nn.LeakyReLU(0.1))))
            c_in, t_in = ch[r], shape[r][0]
        body = SlottedSequential(stages, slots)
        D = VideoDiscriminator(body, c_in * t_in * BASE * BASE)
        for m in list(D.modules()):
            if isinstance(m, nn.Conv3d | nn.Linear):
                spectral_norm(m)
        return D
