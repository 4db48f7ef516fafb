"""Moving digits: the Moving MNIST protocol (Srivastava et al. 2015), drawn from a seed.

Each clip has ``digits`` sprites bouncing inside the frame: a random start, a random
direction, a constant speed, reflection at the edges, and overlaps drawn by max. The sprites
are scikit-learn's bundled digits (``moving-digits``, offline) or MNIST's
(``moving-mnist``, from files you have). Labels: the first digit's class (for balanced
subsets), every digit's class and the octant of the first digit's initial direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from sagan.data.registry import DATASETS, RawVideos
from sagan.errors import ConfigError

SPRITE_FRACTION = 28 / 64  # Moving MNIST: 28 px digits in a 64 px frame
DIRECTIONS = 8  # the direction label: octants of the initial velocity


@dataclass(frozen=True)
class Trajectories:
    positions: np.ndarray  # (N, K, T, 2) top-left corners (y, x), float, in [0, free]
    velocities: np.ndarray  # (N, K, T, 2) the velocity that moved each digit to its position


def bounce(
    count: int, digits: int, frames: int, free: float, speed: float, rng: np.random.Generator
) -> Trajectories:
    """Constant-speed paths that reflect off the walls of [0, free] in each coordinate.

    ``speed`` is in pixels per frame; a step that would leave the box is folded back inside
    it and that velocity component changes sign, so the speed never changes.
    """
    if free <= 0:
        raise ConfigError("the digit sprite must be smaller than the frame")
    pos = rng.uniform(0, free, size=(count, digits, 2))
    angle = rng.uniform(0, 2 * np.pi, size=(count, digits))
    vel = speed * np.stack([np.sin(angle), np.cos(angle)], axis=-1)
    positions = np.empty((count, digits, frames, 2))
    velocities = np.empty((count, digits, frames, 2))
    for t in range(frames):
        positions[:, :, t], velocities[:, :, t] = pos, vel
        pos = pos + vel
        for _ in range(2):  # a speed below the box size folds back at most once per wall
            low, high = pos < 0, pos > free
            pos = np.where(low, -pos, np.where(high, 2 * free - pos, pos))
            vel = np.where(low | high, -vel, vel)
    return Trajectories(positions, velocities)


def direction_octant(velocity: np.ndarray) -> np.ndarray:
    """(..., 2) velocities (dy, dx) -> octant 0..7 of their angle, counter-clockwise from +x."""
    angle = np.arctan2(-velocity[..., 0], velocity[..., 1]) % (2 * np.pi)  # image y points down
    return (np.floor(angle / (2 * np.pi / DIRECTIONS)).astype(np.int64)) % DIRECTIONS


def render(sprites: np.ndarray, positions: np.ndarray, resolution: int) -> np.ndarray:
    """(K, s, s) uint8 sprites at (K, T, 2) positions -> (T, R, R) uint8 frames, max overlap."""
    frames = np.zeros((positions.shape[1], resolution, resolution), dtype=np.uint8)
    s = sprites.shape[-1]
    corners = np.rint(positions).astype(int)
    for k, sprite in enumerate(sprites):
        for t, (y, x) in enumerate(corners[k]):
            window = frames[t, y : y + s, x : x + s]
            np.maximum(window, sprite, out=window)
    return frames


def resize_sprites(images: np.ndarray, size: int) -> np.ndarray:
    """(N, h, w) uint8 digits -> (N, size, size), PIL bicubic."""
    out = [
        np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BICUBIC))
        for im in images
    ]
    return np.stack(out)


def moving_videos(
    sprites: np.ndarray,
    sprite_labels: np.ndarray,
    *,
    count: int,
    frames: int,
    resolution: int,
    digits: int,
    speed: float,
    seed: int,
) -> RawVideos:
    """``count`` clips (N, T, R, R, 1) uint8 of ``digits`` sprites drawn from ``sprites``."""
    if count < 1 or frames < 2 or digits < 1:
        raise ConfigError(
            f"moving digits need count >= 1, frames >= 2 and digits >= 1; got count={count}, "
            f"frames={frames}, digits={digits}"
        )
    rng = np.random.default_rng(seed)
    size = max(4, round(resolution * SPRITE_FRACTION))
    free = resolution - size
    small = resize_sprites(sprites, size)
    pick = rng.integers(0, len(small), size=(count, digits))
    paths = bounce(count, digits, frames, free, speed * free, rng)
    videos = np.stack(
        [render(small[p], x, resolution) for p, x in zip(pick, paths.positions, strict=True)]
    )
    classes = sprite_labels[pick].astype(np.int64)  # (N, K)
    return RawVideos(
        videos=videos[..., None],
        labels=classes[:, 0].copy(),
        extra={"digits": classes, "direction": direction_octant(paths.velocities[:, 0, 0])},
    )


@DATASETS.register("moving-digits", tags=("video",))
def moving_digits(
    resolution: int,
    count: int = 2000,
    frames: int = 16,
    digits: int = 2,
    speed: float = 0.1,
    seed: int = 0,
) -> RawVideos:
    """Bouncing scikit-learn digits (Moving MNIST protocol; offline), T frames of R x R.

    ``speed``: the fraction of the free range (frame minus sprite) moved per frame, 0.1 as in
    the original Moving MNIST code (3.6 px per frame at 64 px).
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    sprites = np.rint(bunch.images * (255 / 16)).astype(np.uint8)
    return moving_videos(
        sprites, bunch.target, count=count, frames=frames, resolution=resolution,
        digits=digits, speed=speed, seed=seed,
    )  # fmt: skip


@DATASETS.register("moving-mnist", tags=("video",))
def moving_mnist(
    resolution: int,
    root: str,
    count: int = 10000,
    frames: int = 16,
    digits: int = 2,
    speed: float = 0.1,
    seed: int = 0,
    download: bool = False,
) -> RawVideos:
    """Bouncing MNIST digits (Srivastava et al. 2015) from torchvision's MNIST under ``root``."""
    from sagan.data.torchvision_sets import mnist_arrays

    sprites, labels = mnist_arrays(root, download)
    return moving_videos(
        sprites, labels, count=count, frames=frames, resolution=resolution,
        digits=digits, speed=speed, seed=seed,
    )  # fmt: skip
