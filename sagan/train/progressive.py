"""ProGAN's growth schedule (Karras et al. 2018) as a pure function of the iteration, so a run
resumed mid-fade continues exactly, and its checks."""

from __future__ import annotations

import math

from torch import nn

from sagan.config import ProgressiveConfig
from sagan.errors import ConfigError


def growth(p: ProgressiveConfig, iteration: int, image_size: int) -> tuple[int, float]:
    """(side, alpha) for training iteration ``iteration`` (1-based).

    ``phase_iterations`` at the start side; then per doubling ``fade_iterations`` with alpha
    (u + 1) / fade at the u-th of them (1.0 at the last), and ``phase_iterations`` stable; at
    the full size it stays."""
    done = iteration - 1  # iterations trained before this one
    side, left = p.start_resolution, done - p.phase_iterations
    while side < image_size and left >= 0:
        side *= 2
        if left < p.fade_iterations:
            return side, (left + 1) / p.fade_iterations
        left -= p.fade_iterations + p.phase_iterations
    return side, 1.0


def full_size_at(p: ProgressiveConfig, image_size: int) -> int:
    """The first iteration at which the full-size stage is fully in (alpha 1)."""
    doublings = int(math.log2(image_size // p.start_resolution))
    if doublings == 0:
        return 1
    return doublings * (p.phase_iterations + p.fade_iterations)


def set_growth(nets: list[nn.Module], p: ProgressiveConfig | None, it: int, size: int) -> None:
    """Every growing net in ``nets`` at the schedule's state for iteration ``it``."""
    if p is None:
        return
    side, alpha = growth(p, it, size)
    for net in nets:
        net.set_growth(side, alpha)


def check_progressive(p: ProgressiveConfig | None, where: str = "train") -> None:
    """The schedule's own values (the image size is checked by ``check_schedule``)."""
    if p is None:
        return
    s = p.start_resolution
    if s < 4 or not math.log2(s).is_integer():
        raise ConfigError(
            f"{where}.progressive.start_resolution must be a power of two >= 4 (4, 8, 16, ...), "
            f"got {s}"
        )
    for key in ("phase_iterations", "fade_iterations"):
        if getattr(p, key) < 1:
            raise ConfigError(
                f"{where}.progressive.{key} must be at least 1, got {getattr(p, key)}"
            )


def check_schedule(
    p: ProgressiveConfig | None, image_size: int, iterations: int, where: str = "train"
) -> None:
    """The start side fits the images, and the run reaches its full size before it ends (the
    final G, the one evaluated, must be the grown one)."""
    if p is None:
        return
    check_progressive(p, where)
    if p.start_resolution > image_size:
        raise ConfigError(
            f"{where}.progressive.start_resolution {p.start_resolution} is above the image "
            f"resolution {image_size}; use a power of two <= {image_size}"
        )
    grown = full_size_at(p, image_size)
    if grown > iterations:
        raise ConfigError(
            f"{where}.progressive reaches {image_size} px at iteration {grown}, after the run's "
            f"{iterations} iterations; lower phase_iterations/fade_iterations or raise "
            "train.iterations"
        )
