"""Metrics computed from pixels, with no feature extractor: generated images against the
held-out reals. Each is registered under its family's name; evaluation reports every one; their
units and direction are declared in ``sagan.metrics.declared``.

These measure detail distortion (the design's claim 8): the multi-scale sliced Wasserstein
distance of ProGAN (``swd_<side>px`` per pyramid level, ``swd_mean``) and the radially
averaged power-spectrum distance (``spectrum_l1``, ``spectrum_hf_l1``). All are distances:
lower is better, 0 for identical sets. Each set is scored on at most 1,024 images (ProGAN's
SWD drew 128 patches from each of 16,384): the cost stays bounded at 256 px and 10k samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from sagan.errors import ConfigError
from sagan.metrics import spectrum, swd
from sagan.registry import Registry


@dataclass(frozen=True)
class PixelMetric:
    # (real, fake, seed) -> metric name -> value; pixels (N, C, H, W) in [0, 255]
    compute: Callable[[Tensor, Tensor, int], dict[str, float]]
    settings: dict = field(default_factory=dict)  # the protocol, recorded with each value


PIXEL_METRICS: Registry[Callable[[], PixelMetric]] = Registry("pixel metric")
MAX_IMAGES = 1024  # per set: SWD then compares 131,072 patches per level


def spread(images: Tensor, count: int = MAX_IMAGES) -> Tensor:
    """At most ``count`` images, evenly spaced over the set (all of a smaller set), on the CPU."""
    if len(images) <= count:
        return images.cpu()
    return images[torch.linspace(0, len(images) - 1, count).round().long()].cpu()


def _swd(real: Tensor, fake: Tensor, seed: int) -> dict[str, float]:
    if min(real.shape[-2:]) < swd.PATCH:  # no 7x7 patch fits: SWD does not apply
        return {}
    levels = swd.multiscale_swd(real, fake, seed)
    values = {f"swd_{side}px": v for side, v in levels.items()}
    return values | {"swd_mean": sum(levels.values()) / len(levels)}


@PIXEL_METRICS.register("swd")
def sliced_wasserstein() -> PixelMetric:
    """Multi-scale sliced Wasserstein distance of 7x7 Laplacian-pyramid patches (ProGAN)."""
    settings = {
        "patch": swd.PATCH,
        "patches_per_image": swd.PATCHES_PER_IMAGE,
        "coarsest_side": swd.MIN_SIDE,
        "projections": f"{swd.REPEATS} x {swd.DIRECTIONS}",
    }
    return PixelMetric(_swd, settings)


@PIXEL_METRICS.register("spectrum")
def power_spectrum() -> PixelMetric:
    """Mean |difference| of the radially averaged log power spectra (Durall et al. 2020)."""
    settings = {"rings": "one per frequency step out to the corners; hf: the top half"}
    return PixelMetric(lambda real, fake, seed: spectrum.spectrum_distances(real, fake), settings)


def check_pixel_metric_names(names: tuple[str, ...] | list[str], where: str) -> None:
    unknown = sorted(set(names) - set(PIXEL_METRICS.names()))
    if unknown:
        raise ConfigError(
            f"{where}: no pixel metric {', '.join(map(repr, unknown))}; "
            f"registered: {', '.join(PIXEL_METRICS.names())}"
        )


def pixel_metrics(
    real: Tensor, fake: Tensor, *, seed: int, skip: tuple[str, ...] = ()
) -> dict[str, dict]:
    """metrics.json entries of every registered pixel metric of ``fake`` against ``real``
    but those in ``skip`` (each at most MAX_IMAGES, evenly spaced; the counts used are
    recorded)."""
    check_pixel_metric_names(skip, "evaluation.skip_pixel_metrics")
    real, fake = spread(real), spread(fake)
    protocol = {
        "extractor": None,  # pixels in, no feature extractor
        "input": "pixels",
        "num_samples": len(fake),
        "sample_seed": seed,
        "reference_split": "heldout",
        "reference_count": len(real),
    }
    entries = {}
    for entry in PIXEL_METRICS.entries():
        if entry.name in skip:
            continue
        metric = entry.builder()
        for name, value in metric.compute(real, fake, seed).items():
            entries[name] = {"value": value, **protocol, **metric.settings}
    return entries
