"""Radially averaged power spectra of real and generated images (Durall et al. 2020, "Watch
your up-convolution": up-sampling leaves GAN images with wrong high-frequency spectra).

Per image: the grey image's 2-D FFT, its power, averaged over rings of equal radial frequency
(the azimuthal average), in decibels; each set's spectra are averaged, and the distance is the
mean absolute difference of the two mean spectra over all rings, or over the top half of the
rings only (the high frequencies, where up-sampling artefacts sit).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights: RGB -> grey
EPS = 1e-12  # power floor, far below a uint8 image's quantisation noise
CHUNK = 256  # images per FFT: bounds memory at 256 px and above


def ring_index(h: int, w: int) -> tuple[Tensor, int]:
    """(H, W) ring of each FFT coefficient and the number of rings. Radius is normalised to
    the Nyquist frequency (1 at 0.5 cycles per pixel), so ring r holds radii in
    [r, r + 1) x 2 / min(H, W): ring 0 is the mean (DC) alone, and the rings go out to the
    corners (radius sqrt 2), where a checkerboard's power lies."""
    fy = torch.fft.fftfreq(h).abs()[:, None] / 0.5
    fx = torch.fft.fftfreq(w).abs()[None, :] / 0.5
    step = 2 / min(h, w)  # one frequency step, normalised
    radius = torch.sqrt(fy**2 + fx**2)  # (H, W), in [0, sqrt 2]
    rings = math.floor(math.sqrt(2) / step) + 1
    return (radius / step + 1e-6).floor().long().clamp_max(rings - 1), rings


def grey(pixels: Tensor) -> Tensor:
    """(N, C, H, W) in [0, 255] -> (N, H, W) grey in [0, 1] (luma for RGB, else the mean)."""
    x = pixels.double() / 255
    if x.shape[1] == 3:
        weights = torch.tensor(LUMA, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(1)
    return x.mean(1)


def mean_log_spectrum(pixels: Tensor) -> Tensor:
    """(rings,) mean over the set of each image's ring-averaged power, in dB."""
    n, _, h, w = pixels.shape
    ring, rings = ring_index(h, w)
    members = torch.nn.functional.one_hot(ring.flatten(), rings).double()  # (H W, rings)
    members /= members.sum(0, keepdim=True)  # average, not sum, over each ring
    total = torch.zeros(rings, dtype=torch.float64)
    for start in range(0, n, CHUNK):
        spectrum = torch.fft.fft2(grey(pixels[start : start + CHUNK])) / (h * w)
        power = spectrum.abs().square().flatten(1)  # (B, H W)
        total += (10 * torch.log10(power @ members + EPS)).sum(0)
    return total / n


def spectrum_distances(real: Tensor, fake: Tensor) -> dict[str, float]:
    """Mean |difference| in dB of the two sets' mean ring spectra: over all rings, and over
    the top half of the rings (high frequencies)."""
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real {tuple(real.shape[1:])} and fake {tuple(fake.shape[1:])} differ")
    gap = (mean_log_spectrum(real) - mean_log_spectrum(fake)).abs()  # (rings,)
    return {
        "spectrum_l1": gap.mean().item(),
        "spectrum_hf_l1": gap[len(gap) // 2 :].mean().item(),
    }
