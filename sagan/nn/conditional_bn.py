"""Class-conditional BatchNorm (de Vries et al. 2017; as in SNGAN's and BigGAN's generators).

Normalise with batch statistics, then scale and shift with a gain and a bias looked up per
class: y = gain[c] * BN(x) + bias[c]. Gains start at 1 and biases at 0, so at initialisation
the layer is a plain BatchNorm for every class.
"""

from __future__ import annotations

from torch import Tensor, nn


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm over (B, C, H, W) with per-class affine parameters; forward(x, y), y (B,) ids."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}; use nn.BatchNorm2d")
        self.num_features = num_features
        self.num_classes = num_classes
        self.bn = nn.BatchNorm2d(num_features, affine=False)  # the affine part is per class
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if y.shape != (x.shape[0],):
            raise ValueError(f"y must be (B,) = ({x.shape[0]},) class ids, got {tuple(y.shape)}")
        gain = self.gain(y)[:, :, None, None]  # (B, C, 1, 1)
        bias = self.bias(y)[:, :, None, None]  # (B, C, 1, 1)
        return gain * self.bn(x) + bias

    def extra_repr(self) -> str:
        return f"{self.num_features}, num_classes={self.num_classes}"
