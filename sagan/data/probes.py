"""Structure probes: procedural datasets whose long-range structure is known exactly.

Each image is drawn at the target resolution from a seed, and ``sagan.metrics.probes`` scores
how well any batch of images keeps the structure, so "attention models long-range
dependencies" becomes a measurement.

- ``mirror``: random shapes over a random gradient whose right half mirrors the left.
  Label: the number of shapes (1-4).
- ``pairs``: two objects on a mid-grey field, one filling the left third and one the right
  third of the image, each within a few pixels of the middle height (1/10 of the side), that
  share a shape (square, circle, triangle) and a colour (red, green, blue). Label: the pair's
  (shape, colour) class, 9 in all.
  The field is grey, not black, and the objects are large (5/16 of the side), so a generator
  starts at the background (tanh 0 is grey) and D sees the objects as a dense signal: on
  black with quarter-side objects, every 500-iteration run of the default study collapsed
  to dark frames (agreement 0). Three primaries, not six saturated colours: small generators
  hop between modes, and a hue between two of six (pink between red and magenta) decoded as
  no object, so pilot scores swung 0.47 -> 0 -> 0.5 between checkpoints; with three, the same
  runs held 0.49-0.55 from 900 to 1,500 iterations.
  Heights near the middle, not anywhere (version 2): with free heights, a quarter of the
  generated objects of a 1,200-iteration run came out doubled, cut at a third's edge or faint,
  and agreement stalled at 0.43-0.49 over 3 seeds; within +-3 px of the middle, the same pilots
  reached 0.66 and 0.74 (sagan, seeds 0 and 1). The question is unchanged: the right object
  must match the left one, 20 px away, in shape and colour. Each object's brightness is its
  own (0.7-1.0 of the palette colour): with heights alone, 1,800 draws held only 441 distinct
  images, so held-out images repeated training ones; with it, 1,798 of 1,800 are distinct, and
  sagan pilots still reached 0.78 and 0.76 at 900 iterations.

  Agreement is not dependence (issue 27): each run is also scored against its own
  independence baseline, sum_c p_left(c) p_right(c), as excess agreement and as the mutual
  information of the two classes (``sagan.metrics.probes.pairs_dependence``). Real held-out
  pairs (the default study's entry: 32 px, 1,800 drawn, 400 held out): agreement 1.00,
  own baseline 0.111, excess 0.889, MI 3.170 bits (Miller-Madow 3.184; log2 9 = 3.170).
  Pilot, seed 100 (not a study seed), 450 iterations, G's EMA, 500 samples: dcgan agrees
  0.498 against its own baseline 0.528 (excess -0.030, MI 0.006 bits, plug-in bias 0.002;
  blue circles and triangles only), sagan 0.804 against 0.804 (excess -0.000, MI 0.002
  bits; 89 % one class, green circles). Neither arm beats its own baseline: the agreement
  the study has reported (0.69-0.81) is collapse onto one or two classes, not coherence.
  The same dcgan trained to 1,800 iterations: 0.640 against 0.610 (excess +0.030, about
  1.4 binomial SEs at 500 samples; MI 0.015 bits, Miller-Madow 0.009), three classes only.

  A global latent can carry this dependence, so pairs cannot credit spatial mixing: G
  projects the whole z through one linear layer onto its 4x4 map, so one z coordinate can
  set the class of both objects at once, and a dcgan that fit the data would match real
  pairs (excess 0.89) with no attention at all; D ends in a linear layer over its whole
  4x4 map, so it can compare the two sides too. What pairs measures is whether G fits the
  joint of 9 classes before it collapses. A probe that only spatial mixing can solve needs
  the left object's class decided by an input that G sees only at the left: a per-position
  random map (a conditioning noise map, not z) whose left-third value picks the class, or
  the left third given as pixels (completion), with no image-level input that names the
  class; the right object must then copy it across a distance longer than the receptive
  field of G's convolutions at the stage where the class is decided, scored as excess
  agreement against the run's own baseline at several distances.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from sagan.data.registry import DATASETS, RawImages
from sagan.errors import ConfigError

SHAPES = ("square", "circle", "triangle")
PALETTE = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
MIN_RESOLUTION = 16
BACKGROUND = 128  # pairs: the grey of the field, the tanh-0 output of a fresh generator
SHADES = (0.7, 1.0)  # pairs: each object's colour times a brightness drawn from this range


def _check(resolution: int, count: int) -> None:
    if resolution < MIN_RESOLUTION or resolution % 2:
        raise ConfigError(f"probes need an even resolution >= {MIN_RESOLUTION}, got {resolution}")
    if count < 1:
        raise ConfigError(f"probe count must be positive, got {count}")


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, x: int, y: int, size: int, fill) -> None:
    """A filled shape in the box (x, y, x + size - 1, y + size - 1)."""
    box = (x, y, x + size - 1, y + size - 1)
    if shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "circle":
        draw.ellipse(box, fill=fill)
    else:
        draw.polygon(
            [(x, y + size - 1), (x + size - 1, y + size - 1), (x + size // 2, y)], fill=fill
        )


def mirror_image(rng: np.random.Generator, resolution: int) -> tuple[np.ndarray, int]:
    r = resolution
    ramp = np.linspace(0.0, 1.0, r)[None, :, None]  # a random colour gradient background
    lo, hi = rng.integers(0, 90, 3), rng.integers(0, 90, 3)
    background = (lo + (hi - lo) * ramp).repeat(r, axis=0).astype(np.uint8)  # (r, r, 3)
    img = Image.fromarray(background)
    draw = ImageDraw.Draw(img)
    n_shapes = int(rng.integers(1, 5))
    for _ in range(n_shapes):
        size = int(rng.integers(max(3, r // 8), max(4, r // 3)))
        # start in the left half so the shape survives the mirroring (and shows twice)
        x, y = int(rng.integers(0, r // 2 - size // 2)), int(rng.integers(0, r - size))
        colour = tuple(int(c) for c in rng.integers(100, 256, 3))
        draw_shape(draw, SHAPES[int(rng.integers(3))], x, y, size, colour)
    pixels = np.asarray(img).copy()
    pixels[:, r // 2 :] = pixels[:, : r // 2][:, ::-1]  # the right half mirrors the left
    return pixels, n_shapes - 1


def pairs_image(rng: np.random.Generator, resolution: int) -> tuple[np.ndarray, int]:
    r = resolution
    size = object_size(r)
    shape, colour = int(rng.integers(len(SHAPES))), int(rng.integers(len(PALETTE)))
    img = Image.new("RGB", (r, r), (BACKGROUND,) * 3)
    draw = ImageDraw.Draw(img)
    third, middle, jitter = r // 3, (r - size) // 2, max(1, r // 10)
    for x0 in (0, r - third):  # one object in the left third, one in the right third
        x = x0 + int(rng.integers(0, third - size + 1))
        y = middle + int(rng.integers(-jitter, jitter + 1))
        shade = rng.uniform(*SHADES)  # each object's own brightness: no two images repeat
        fill = tuple(int(round(c * shade)) for c in PALETTE[colour])
        draw_shape(draw, SHAPES[shape], x, y, size, fill)
    return np.asarray(img), shape * len(PALETTE) + colour


def object_size(resolution: int) -> int:
    """The pairs objects' side: 5/16 of the image (10 px at 32), so each fills its third."""
    return max(5, resolution * 5 // 16)


def pairs_regions(resolution: int) -> np.ndarray:
    """(2, 4) int: the box each pairs object lies within, as (row0, row1, col0, col1) with
    exclusive ends: the left and the right third, the rows the jittered middle height and the
    object's size can reach (``pairs_image``)."""
    r, size = resolution, object_size(resolution)
    third, middle, jitter = r // 3, (r - size) // 2, max(1, r // 10)
    rows = (middle - jitter, middle + jitter + size)
    return np.array([[*rows, 0, third], [*rows, r - third, r]])


# Datasets whose objects sit in known boxes, by name: resolution -> (K, 4) boxes
OBJECT_LAYOUTS = {"pairs": pairs_regions}


def _generate(make, count: int, seed: int, resolution: int) -> RawImages:
    _check(resolution, count)
    rng = np.random.default_rng(seed)
    drawn = [make(rng, resolution) for _ in range(count)]
    images = np.stack([img for img, _ in drawn])  # (N, r, r, 3)
    return RawImages(images=images, labels=np.array([label for _, label in drawn], np.int64))


@DATASETS.register("mirror")
def mirror(count: int = 2000, seed: int = 0, resolution: int = 32) -> RawImages:
    """Probe: random shapes whose right half mirrors the left (score: mirror error)."""
    return _generate(mirror_image, count, seed, resolution)


@DATASETS.register("pairs", version=2)  # 2: heights near the middle
def pairs(count: int = 2000, seed: int = 0, resolution: int = 32) -> RawImages:
    """Probe: two distant objects sharing shape and colour (score: agreement rate)."""
    return _generate(pairs_image, count, seed, resolution)
