"""Metrics computed from pixels, with no feature extractor: generated images against the
held-out reals. Each is registered under its family's name; evaluation reports every one.

These measure detail distortion (the design's claim 8): the multi-scale sliced Wasserstein
distance of ProGAN (``swd_<side>px`` per pyramid level, ``swd_mean``) and the radially
averaged power-spectrum distance (``spectrum_l1``, ``spectrum_hf_l1``). All are distances:
lower is better, 0 for identical sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

from sagan.metrics import spectrum, swd
from sagan.registry import Registry


@dataclass(frozen=True)
class PixelMetric:
    # (real, fake, seed) -> metric name -> value; pixels (N, C, H, W) in [0, 255]
    compute: Callable[[Tensor, Tensor, int], dict[str, float]]
    unit: str
    settings: dict = field(default_factory=dict)  # the protocol, recorded with each value


PIXEL_METRICS: Registry[Callable[[], PixelMetric]] = Registry("pixel metric")


def _swd(real: Tensor, fake: Tensor, seed: int) -> dict[str, float]:
    levels = swd.multiscale_swd(real, fake, seed)
    values = {f"swd_{side}px": v for side, v in levels.items()}
    return values | {"swd_mean": sum(levels.values()) / len(levels)}


@PIXEL_METRICS.register("swd")
def sliced_wasserstein() -> PixelMetric:
    """Multi-scale sliced Wasserstein distance of 7x7 Laplacian-pyramid patches (ProGAN)."""
    settings = {
        "patch": swd.PATCH,
        "patches_per_image": swd.PATCHES_PER_IMAGE,
        "max_patches_per_level": swd.MAX_PATCHES,
        "coarsest_side": swd.MIN_SIDE,
        "projections": f"{swd.REPEATS} x {swd.DIRECTIONS}",
    }
    unit = "sliced Wasserstein distance x 1e3 (ProGAN's scale), normalised patches"
    return PixelMetric(_swd, unit, settings)


@PIXEL_METRICS.register("spectrum")
def power_spectrum() -> PixelMetric:
    """Mean |difference| of the radially averaged log power spectra (Durall et al. 2020)."""
    settings = {"rings": "one per frequency step out to the corners; hf: the top half"}
    return PixelMetric(
        lambda real, fake, seed: spectrum.spectrum_distances(real, fake),
        "dB, mean absolute difference of the mean grey-image ring spectra",
        settings,
    )


def pixel_metrics(real: Tensor, fake: Tensor, *, seed: int) -> dict[str, dict]:
    """metrics.json entries of every registered pixel metric of ``fake`` against ``real``."""
    protocol = {
        "extractor": None,  # pixels in, no feature extractor
        "input": "pixels",
        "num_samples": len(fake),
        "sample_seed": seed,
        "reference_split": "heldout",
        "reference_count": len(real),
        "higher_is_better": False,
    }
    entries = {}
    for entry in PIXEL_METRICS.entries():
        metric = entry.builder()
        for name, value in metric.compute(real, fake, seed).items():
            entries[name] = {"value": value, "unit": metric.unit, **protocol, **metric.settings}
    return entries
