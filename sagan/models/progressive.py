"""Progressive growing (ProGAN, Karras et al. 2018, section 3) over a slotted backbone.

Every stage is built up front, so the parameters and state-dict keys never change while the
model grows; only the active path does. At growth state (R, alpha):
- G runs its stages up to side R and turns that map into an image with a toRGB (the
  backbone's own output head at full size). While a stage fades in (alpha < 1) the image is
  alpha * toRGB_R(new stage) + (1 - alpha) * upsample(toRGB_{R/2}(previous map)).
- D area-downsamples its input to side R (real and fake alike: the real batches are seen at
  the current resolution), maps it with a fromRGB to the features at side R and runs the
  stages below; while fading, the new stage's output is blended with fromRGB_{R/2} of the
  input pooled once more.
G's image is nearest-upsampled back to the full size, so samples, grids and evaluation keep
one shape; D's average pooling undoes that exactly. An attention block in a slot belongs to
the stage before it: a slot at a side not yet grown is off the path (the identity).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


class Growing(nn.Module):
    """The growth state shared by G and D: side ``resolution`` and fade-in weight ``alpha``
    (plain attributes, not buffers: the schedule sets them from the iteration)."""

    def __init__(self, image_size: int) -> None:
        super().__init__()
        self.image_size = image_size
        self.resolution, self.alpha = image_size, 1.0

    def set_growth(self, resolution: int, alpha: float) -> None:
        self.resolution, self.alpha = resolution, alpha

    @property
    def fading(self) -> bool:
        return self.alpha < 1.0


class ProgressiveGenerator(Growing):
    def __init__(self, net: nn.Module, channels: dict[int, int], image_channels: int, start: int):
        super().__init__(max(channels))
        self.net = net
        self.z_dim = net.z_dim
        self.num_classes = getattr(net, "num_classes", 0)
        sides = [r for r in sorted(channels) if start <= r < self.image_size]
        self.rgb = nn.ModuleDict(
            {
                str(r): nn.Sequential(nn.Conv2d(channels[r], image_channels, 1), nn.Tanh())
                for r in sides
            }
        )
        if any(parametrize.is_parametrized(m) for m in net.modules()):
            for head in self.rgb.values():  # as the backbone: spectral norm throughout G
                spectral_norm(head[0])

    def _to_rgb(self, side: int, h: Tensor) -> Tensor:
        return self.net.to_rgb(h) if side == self.image_size else self.rgb[str(side)](h)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        body, side = self.net.slotted, self.resolution
        x, previous = self.net.stem(z, y), None
        for i, r in enumerate(body.resolutions):
            if r > side:
                break
            x = body.step(i, x, y)
            if r == side // 2:
                previous = x  # (B, C, R/2, R/2): the map the fading stage grows from
        image = self._to_rgb(side, x)  # (B, channels, R, R)
        if self.fading:
            old = F.interpolate(self._to_rgb(side // 2, previous), scale_factor=2, mode="nearest")
            image = self.alpha * image + (1.0 - self.alpha) * old
        if side < self.image_size:
            image = F.interpolate(image, scale_factor=self.image_size // side, mode="nearest")
        return image  # (B, channels, S, S)


class ProgressiveDiscriminator(Growing):
    def __init__(
        self,
        net: nn.Module,
        channels: dict[int, int],
        image_channels: int,
        image_size: int,
        start: int,
    ):
        super().__init__(image_size)
        self.net = net
        self.num_classes = getattr(net, "num_classes", 0)
        sides = [r for r in sorted(channels) if r >= start]
        self.from_rgb = nn.ModuleDict(
            {
                str(r): nn.Sequential(
                    spectral_norm(nn.Conv2d(image_channels, channels[r], 1)), nn.LeakyReLU(0.1)
                )
                for r in sides
            }
        )

    def _features(self, side: int, x: Tensor) -> Tensor:
        """The input image at ``side`` as the map D's next stage takes (at full size: itself)."""
        return x if side == self.image_size else self.from_rgb[str(side)](x)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        body, side = self.net.slotted, self.resolution
        if side < self.image_size:
            x = F.avg_pool2d(x, self.image_size // side)  # (B, channels, R, R): area downsample
        # stages are keyed by the side they output: the first to run outputs R/2
        first = next((i for i, r in enumerate(body.resolutions) if r < side), len(body.stages))
        h = self._features(side, x)
        if self.fading:
            old = self.from_rgb[str(side // 2)](F.avg_pool2d(x, 2))
            h = self.alpha * body.step(first, h, y) + (1.0 - self.alpha) * old
            first += 1
        for i in range(first, len(body.stages)):
            h = body.step(i, h, y)
        return self.net.head(h, y)


def grow(
    G: nn.Module,
    D: nn.Module,
    slot_channels: dict[str, dict[int, int]],
    image_channels: int,
    start: int,
) -> tuple[ProgressiveGenerator, ProgressiveDiscriminator]:
    """G and D wrapped for progressive growing from side ``start``, at full size until
    ``set_growth`` says otherwise."""
    g = ProgressiveGenerator(G, slot_channels["g"], image_channels, start)
    d = ProgressiveDiscriminator(D, slot_channels["d"], image_channels, g.image_size, start)
    return g, d
