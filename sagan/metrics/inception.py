"""The ``inception`` extractor: clean-fid's Inception-v3 features, and the Inception Score.

The weights are NVIDIA's TorchScript port of TensorFlow's 2015-12-05 Inception-v3 (the file
stylegan2-ada and clean-fid use). It is never downloaded here: the file must already be on
disk at the configured path (clean-fid's own loader downloads to /tmp, which fails offline).

The file's ``forward(img, return_features=False, use_fp16=False, no_output_bias=False)``
takes (B, 3, H, W) in [0, 255], resizes to 299x299 with a TF-style bilinear kernel, maps to
[-1, 1) by (x - 128) / 128, runs ``layers`` to (B, 2048, 1, 1) pool features, and returns them
as (B, 2048) if ``return_features``, else softmax(``output``(features)) as (B, 1008)
probabilities (``no_output_bias`` drops the output layer's bias, as the original Inception
Score code did). clean-fid's "clean" mode skips that internal resize: it resizes with PIL
bicubic on float32 channels first and calls ``layers`` on the normalised 299x299 batch
(cleanfid/inception_torchscript.py, ``resize_inside=False``). This module does the same.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from cleanfid.resize import build_resizer
from scipy.special import xlogy
from torch import Tensor, nn

from sagan.errors import DataError
from sagan.metrics.extractors import EXTRACTORS

FILE_NAME = "inception-2015-12-05.pt"
# The URL clean-fid 0.1.35 downloads from (cleanfid/downloads_helper.py, inception_url).
SOURCE_URL = (
    "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/"
    "inception-2015-12-05.pt"
)
FEATURE_DIM = 2048

# clean-fid's "clean" resize: one (H, W, 3) float image -> (299, 299, 3) float32, each channel
# resized as a PIL mode-"F" image with bicubic filtering, then clipped to [0, 255].
_clean_resize_one = build_resizer("clean")


def clean_resize(pixels: Tensor) -> Tensor:
    """(B, C, H, W) float in [0, 255], C in {1, 3} -> (B, 3, 299, 299) float32, same device.

    Grey images are repeated to three channels first, as clean-fid's ``convert('RGB')`` does.
    The resize runs in PIL on the CPU, so the batch makes a round trip off the device.
    """
    if pixels.shape[1] not in (1, 3):
        raise ValueError(f"inception takes 1- or 3-channel images, got shape {tuple(pixels.shape)}")
    if pixels.min() < 0 or pixels.max() > 255:
        # clean-fid would clip silently; [-1, 1] model output here would score garbage.
        raise ValueError(
            "inception takes pixels in [0, 255], got "
            f"[{pixels.min().item():.3g}, {pixels.max().item():.3g}]; "
            "convert model output with sagan.images.to_pixel_range"
        )
    rgb = pixels.expand(-1, 3, -1, -1)
    hwc = rgb.detach().float().cpu().numpy().transpose(0, 2, 3, 1)  # (B, H, W, 3)
    resized = np.stack([_clean_resize_one(img) for img in hwc])  # (B, 299, 299, 3)
    return torch.from_numpy(resized).permute(0, 3, 1, 2).contiguous().to(pixels.device)


class InceptionFeatures(nn.Module):
    """Extractor interface: (B, C, H, W) float in [0, 255] -> (B, 2048) pool features, exactly
    as clean-fid's "clean" mode computes them (Parmar et al. 2022, "On Aliased Resizing and
    Surprising Subtleties in GAN Evaluation")."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net  # the TorchScript module; its submodules are `layers` and `output`

    def forward(self, pixels: Tensor) -> Tensor:
        x = clean_resize(pixels)  # (B, 3, 299, 299) in [0, 255]
        # The file's own normalisation to [-1, 1), applied outside it as clean-fid does.
        return self.net.layers((x - 128) / 128).view(len(x), FEATURE_DIM)

    def class_probabilities(self, features: Tensor) -> Tensor:
        """(B, 2048) features from ``forward`` -> (B, 1008) probabilities, without the output
        bias: the Inception Score from the same feature pass as FID."""
        weight = self.net.output.weight  # (1008, 2048)
        return F.softmax(F.linear(features.to(weight), weight), dim=1)

    def probabilities(self) -> InceptionProbabilities:
        """The class-probability head over the same weights (for the Inception Score)."""
        return InceptionProbabilities(self)


class InceptionProbabilities(nn.Module):
    """(B, C, H, W) float in [0, 255] -> (B, 1008) softmax probabilities without the output
    bias (1008: the TF graph's 1000 ImageNet classes and 8 unused outputs).

    The same as the file's ``forward(img, no_output_bias=True)``, which stylegan2-ada's
    ``metrics/inception_score.py`` uses to match Salimans et al.'s original code, but fed
    clean-resized 299x299 images like the features are.
    """

    def __init__(self, features: InceptionFeatures) -> None:
        super().__init__()
        self.features = features

    def forward(self, pixels: Tensor) -> Tensor:
        return self.features.class_probabilities(self.features(pixels))


def _resolve(path: str) -> Path:
    """The weights file: ``path`` itself, or ``FILE_NAME`` inside it if it is a folder (the
    layout clean-fid caches in)."""
    p = Path(path)
    return p / FILE_NAME if path and p.is_dir() else p


@EXTRACTORS.register("inception")
def inception(path: str) -> nn.Module:
    """Inception-v3 pool features as clean-fid computes them (Heusel et al. 2017; Parmar et al.
    2022), from the TorchScript file at ``path``; never downloads."""
    file = _resolve(path)
    if not (path and file.is_file()):
        where = (
            f"copy it to {file}, or set evaluation.extractor_path to where it is"
            if path
            else "set evaluation.extractor_path to where you put it"
        )
        raise DataError(
            f"Inception weights {FILE_NAME} not found at '{path}' (they are never downloaded "
            f"here): download {SOURCE_URL} on a machine with network and {where}"
        )
    try:
        with warnings.catch_warnings():
            # Recent torch deprecates TorchScript, but these weights exist only in that form.
            warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", FutureWarning)
            net = torch.jit.load(str(file), map_location="cpu")
    except (RuntimeError, ValueError) as err:
        raise DataError(
            f"{file} is not a readable TorchScript file ({err}); download {SOURCE_URL} again"
        ) from err
    if not (hasattr(net, "layers") and hasattr(net, "output")):
        raise DataError(f"{file} has no 'layers'/'output' submodules; it is not {FILE_NAME}")
    return InceptionFeatures(net)


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Mean and standard deviation over ``splits`` equal parts of exp(E_x KL(p(y|x) || p(y))).

    Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 4; p(y) is each part's
    mean prediction, and the parts and the population std follow the original code (and
    stylegan2-ada's). ``probs`` is (N, K) with rows on the simplex; 0 log 0 is taken as 0.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or not 1 <= splits <= len(probs):
        raise ValueError(f"need (N, K) probabilities with N >= splits={splits}, got {probs.shape}")
    if probs.min() < 0 or not np.allclose(probs.sum(1), 1.0, atol=1e-4):
        raise ValueError("rows of probs must be probability vectors (softmax outputs, not logits)")
    n = len(probs)
    scores = []
    for i in range(splits):
        part = probs[i * n // splits : (i + 1) * n // splits]  # (n / splits, K)
        marginal = part.mean(0, keepdims=True)  # p(y), (1, K)
        kl = (xlogy(part, part) - xlogy(part, marginal)).sum(1)  # (n / splits,)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
