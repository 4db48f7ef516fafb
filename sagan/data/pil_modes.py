"""Any PIL image as 8-bit RGB, with high-bit-depth greys scaled, not clipped.

PIL's own ``convert("RGB")`` clips 16- and 32-bit greys to 255, so a 16-bit PNG comes out
solid white. Here each mode keeps its brightness:

- ``1``, ``L``, ``P``, ``RGB``, ``CMYK``, ``YCbCr``, ...: PIL's conversion (exact for 8 bits);
- ``LA``, ``RGBA``, ``PA``: the alpha channel is dropped (colours as stored, not composited);
- ``I;16`` (and ``I;16B``/``L``/``N``): 0..65535 divided by 257, so 65535 -> 255;
- ``I`` (32-bit ints): by its range -- values within 0..255 as they are, within 0..65535 as
  16-bit (Pillow reads some 16-bit PNGs as ``I``), anything else min-max scaled;
- ``F`` (floats): values within [0, 1] times 255, anything else min-max scaled.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIXTEEN_BIT = 65535 / 255  # = 257: 16-bit 65535 -> 8-bit 255


def to_rgb8(image: Image.Image) -> Image.Image:
    """``image`` as an 8-bit RGB image, its tones scaled from its bit depth (module doc)."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        grey = _grey8(np.asarray(image), image.mode)
        return Image.fromarray(grey, mode="L").convert("RGB")
    return image.convert("RGB")


def _grey8(values: np.ndarray, mode: str) -> np.ndarray:
    """A 2D array of a high-depth grey mode -> uint8 (H, W)."""
    x = values.astype(np.float64)
    finite = x[np.isfinite(x)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    if mode.startswith("I;16") or (mode == "I" and 255 < hi <= 65535 and lo >= 0):
        scaled = x / SIXTEEN_BIT
    elif mode == "I" and lo >= 0 and hi <= 255:
        scaled = x
    elif mode == "F" and lo >= 0 and hi <= 1:
        scaled = x * 255
    else:  # outside every known range: stretch what is there over 0..255
        scaled = (x - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(x)
    return np.clip(np.nan_to_num(np.rint(scaled)), 0, 255).astype(np.uint8)
