"""Every PIL mode an imagefolder may hold comes out as 8-bit RGB with its tones kept:
a real file per mode, half black and half mid-grey (or white for 1-bit)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sagan.data.pil_modes import to_rgb8
from sagan.data.torchvision_sets import read_image

MID = 128  # the 8-bit grey the right half should read as


def halves(dark, light, dtype) -> np.ndarray:
    """(4, 4) or (4, 4, C): the left half ``dark``, the right half ``light``."""
    channels = np.shape(dark)
    out = np.empty((4, 4, *channels), dtype=dtype)
    out[:, :2], out[:, 2:] = dark, light
    return out


def make(mode: str) -> tuple[Image.Image, str, int]:
    """(an image of MODE, the file suffix that stores it, the 8-bit grey of its right half)."""
    if mode == "1":
        return Image.fromarray(halves(0, 255, np.uint8)).convert("1"), "png", 255
    if mode == "P":
        image = Image.fromarray(halves(0, 1, np.uint8), mode="P")
        image.putpalette([0, 0, 0, MID, MID, MID] + [0] * 762)
        return image, "png", MID
    if mode == "I;16":
        return Image.fromarray(halves(0, MID * 257, np.uint16)), "png", MID
    if mode == "I":
        return Image.fromarray(halves(0, MID * 257, np.int32)), "tif", MID
    if mode == "F":
        return Image.fromarray(halves(0, MID / 255, np.float32)), "tif", MID
    if mode == "CMYK":  # 255 - K = 128
        return Image.fromarray(halves([0, 0, 0, 255], [0, 0, 0, 127], np.uint8), "CMYK"), "tif", MID
    stored = {"L": 0, "LA": 1, "RGB": 2, "RGBA": 3}[mode] + 1
    dark, light = [0] * stored, [MID] * stored
    if mode.endswith("A"):
        dark[-1] = light[-1] = 255
    return Image.fromarray(halves(dark, light, np.uint8).squeeze(), mode), "png", MID


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_reads_as_8bit_rgb_with_its_tones(mode, tmp_path):
    image, suffix, light = make(mode)
    assert image.mode == mode
    path = tmp_path / f"image.{suffix}"
    image.save(path)
    with Image.open(path) as stored:  # the file really holds a high-depth mode where asked
        assert stored.mode == mode or (mode == "I;16" and stored.mode in ("I", "I;16"))
    out = np.asarray(read_image(str(path)))
    assert out.dtype == np.uint8 and out.shape == (4, 4, 3)
    assert np.abs(out[:, :2].astype(int)).max() <= 1  # black stays black
    assert np.abs(out[:, 2:].astype(int) - light).max() <= 1  # mid-grey, not white


def test_out_of_range_floats_and_ints_are_stretched():
    floats = Image.fromarray(np.array([[-2.0, 0.0, 2.0]], dtype=np.float32))
    assert np.asarray(to_rgb8(floats))[0, :, 0].tolist() == [0, 128, 255]
    ints = Image.fromarray(np.array([[-10, 0, 10]], dtype=np.int32))
    assert np.asarray(to_rgb8(ints))[0, :, 0].tolist() == [0, 128, 255]
    eight_bit_ints = Image.fromarray(np.array([[0, 100, 255]], dtype=np.int32))
    assert np.asarray(to_rgb8(eight_bit_ints))[0, :, 0].tolist() == [0, 100, 255]
