"""The pairs probe's object decoder pinned at each of its tolerances, on hand-built regions one
pixel either side of the bound: a decoder whose tolerance drifts would score real pairs as
broken, or broken images as real, with no other test noticing.

The probe's objects are ``object_size(32) = 10`` pixels wide. A blob is drawn as the ring of
its bounding box (which fixes the box and keeps the blob 4-connected) plus interior pixels,
so its pixel count and its box can be set apart.
"""

import math

import numpy as np
import pytest
import torch

from sagan.data.probes import BACKGROUND, PALETTE
from sagan.metrics.probes import (
    NO_OBJECT,
    _decode_object,
    pairs_classes,
    pairs_dependence,
    plug_in_bias,
)

SIZE = 10  # object_size(32)
RED, GREEN = 0, 1  # rows of PALETTE
SQUARE, CIRCLE, TRIANGLE = 0, 1, 2


def region_with_blob(h: int, w: int, count: int, colour=PALETTE[RED], side: int = 32):
    """A grey (side, side, 3) region holding one h x w blob of ``count`` pixels at (2, 2): its
    box's ring, then interior pixels row by row."""
    assert 2 * (h + w) - 4 <= count <= h * w, "the ring alone fixes the box"
    region = np.full((side, side, 3), BACKGROUND, dtype=np.uint8)
    blob = np.zeros((h, w), dtype=bool)
    blob[[0, -1], :] = blob[:, [0, -1]] = True
    interior = [(y, x) for y in range(1, h - 1) for x in range(1, w - 1)]
    for y, x in interior[: count - int(blob.sum())]:
        blob[y, x] = True
    assert blob.sum() == count
    region[2 : 2 + h, 2 : 2 + w][blob] = colour
    return region


@pytest.mark.parametrize(
    ("h", "w", "count", "found"),
    [
        (6, 6, 30, True),  # 0.3 * SIZE**2 pixels: the fewest an object may have
        (6, 6, 29, False),
        (14, 14, 130, True),  # 1.3 * SIZE**2: the most
        (14, 14, 131, False),
    ],
)
def test_an_object_has_between_three_and_thirteen_tenths_of_its_area(h, w, count, found):
    assert (_decode_object(region_with_blob(h, w, count), SIZE) is not None) is found


@pytest.mark.parametrize(("h", "found"), [(5, False), (6, True), (14, True), (15, False)])
def test_an_objects_box_is_between_six_and_fourteen_tenths_of_its_side_each_way(h, found):
    count = 2 * (h + 8) - 4 + 10  # the ring and ten interior pixels: 32 to 52, all allowed
    assert (_decode_object(region_with_blob(h, 8, count), SIZE) is not None) is found
    assert (_decode_object(region_with_blob(8, h, count), SIZE) is not None) is found


@pytest.mark.parametrize(
    ("count", "shape"),
    [(100, SQUARE), (91, SQUARE), (90, CIRCLE), (67, CIRCLE), (66, TRIANGLE), (50, TRIANGLE)],
)
def test_the_fill_of_the_box_tells_the_shape(count, shape):
    assert _decode_object(region_with_blob(SIZE, SIZE, count), SIZE) == (shape, RED)


@pytest.mark.parametrize("colour", [0, 1, 2])
def test_each_palette_colour_decodes_as_itself(colour):
    assert _decode_object(region_with_blob(SIZE, SIZE, 100, PALETTE[colour]), SIZE) == (
        SQUARE,
        colour,
    )


@pytest.mark.parametrize(("off_colour", "found"), [(20, True), (21, False)])
def test_four_fifths_of_an_objects_pixels_must_be_nearest_one_colour(off_colour, found):
    region = region_with_blob(SIZE, SIZE, 100)
    rows, cols = np.divmod(np.arange(off_colour), SIZE)
    region[2 + rows, 2 + cols] = PALETTE[GREEN]
    got = _decode_object(region, SIZE)
    assert got == ((SQUARE, RED) if found else None)


@pytest.mark.parametrize(("specks", "found"), [(50, True), (51, False)])
def test_specks_up_to_half_the_objects_area_are_ignored(specks, found):
    region = region_with_blob(SIZE, SIZE, 100)
    # single pixels two apart, below the blob, none touching another or the blob
    places = [(y, x) for y in range(14, 32, 2) for x in range(0, 32, 2)][:specks]
    assert len(places) == specks
    for y, x in places:
        region[y, x] = PALETTE[GREEN]
    assert _decode_object(region, SIZE) == ((SQUARE, RED) if found else None)


@pytest.mark.parametrize(("offset", "found"), [(64, False), (65, True)])
def test_a_pixel_is_part_of_an_object_only_more_than_64_levels_from_the_grey(offset, found):
    colour = np.array([BACKGROUND + offset, BACKGROUND, BACKGROUND], dtype=np.uint8)
    got = _decode_object(region_with_blob(SIZE, SIZE, 100, colour), SIZE)
    assert got == ((SQUARE, RED) if found else None)


def test_the_largest_blob_is_the_object_whichever_label_it_gets():
    # a smaller square first in scan order (label 1), the object after it (label 2): the
    # second is the largest and decodes; the first, 12 pixels, counts as specks
    region = region_with_blob(SIZE, SIZE, 100, side=32)
    region[20:23, 20:24] = PALETTE[GREEN]
    region[0, 20:22] = PALETTE[GREEN]  # above the object: scanned first
    assert _decode_object(region, SIZE) == (SQUARE, RED)


def test_an_empty_region_holds_no_object():
    assert _decode_object(region_with_blob(SIZE, SIZE, 100)[14:, 14:], SIZE) is None


# --- from pixels to classes, and the dependence metrics --------------------------------------


def image_with_squares(columns, side=32, value=None) -> torch.Tensor:
    """(3, side, side) grey pixels with a 6 x 6 red square at each (first) column of
    ``columns``, rows 10-15; ``value`` overrides the pixel values of the squares (out of
    range, as an untrained generator's)."""
    img = torch.full((3, side, side), float(BACKGROUND))
    for x in columns:
        img[:, 10:16, x : x + 6] = torch.tensor(
            value if value is not None else PALETTE[RED].tolist(), dtype=torch.float
        )[:, None, None]
    return img


def test_each_side_is_read_from_exactly_its_third():
    # 6-wide squares at columns 4-9 and 22-27 lie inside the left and right thirds (10 px
    # each at 32); a side read from a quarter (8 px) would see them cut to 4 columns
    img = image_with_squares([4, 22])
    assert pairs_classes(img[None]).tolist() == [[SQUARE * 3 + RED] * 2]
    # and one that starts past the third is not that side's
    assert pairs_classes(image_with_squares([4, 10])[None]).tolist() == [[0, NO_OBJECT]]


@pytest.mark.parametrize(
    ("value", "colour"),
    [([384.0, 128.0, 128.0], RED), ([-128.0, 128.0, 128.0], GREEN)],
)
def test_out_of_range_pixels_clamp_rather_than_wrap(value, colour):
    # an untrained generator overshoots: 384 clamps to 255 and -128 to 0, giving a colour
    # far from the grey field; wrapped (mod 256) both would be 128, the grey itself
    img = image_with_squares([4, 22], value=value)
    assert pairs_classes(img[None]).tolist() == [[SQUARE * 3 + colour] * 2]


def test_the_plug_in_bias_counts_the_classes_seen_on_each_side():
    table = np.zeros((10, 10), dtype=np.int64)
    table[0, 0], table[1, 0], table[2, 4] = 4, 3, 3  # left: 3 classes seen; right: 2; n = 10
    assert plug_in_bias(table) == pytest.approx((3 - 1) * (2 - 1) / (2 * 10 * math.log(2)))
    assert plug_in_bias(table.T) == pytest.approx(plug_in_bias(table))


def test_pairs_dependence_of_a_hand_built_batch():
    agree, differ = image_with_squares([4, 22]), image_with_squares([4])  # right side empty
    found = pairs_dependence(torch.stack([agree, agree, differ, differ]))
    # classes: (0, 0) twice, (0, none) twice; the baseline counts object classes only:
    # p_left(0) = 1, p_right(0) = 1/2
    assert found["pairs_independence_baseline"] == {"value": 0.5}
    assert found["pairs_excess_agreement"] == {
        "value": 0.0,
        "agreement": 0.5,
        "independence_baseline": 0.5,
        "chance": 0.0,
    }
    mi = found["pairs_mutual_information"]
    assert (mi["value"], mi["num_pairs"]) == (0.0, 2)  # one class each side: no information
    assert mi["chance"] == 0.0 and mi["miller_madow"] == pytest.approx(0.0)


def test_pairs_dependence_with_no_decoded_pair_has_no_information_to_report():
    mi = pairs_dependence(image_with_squares([4])[None])["pairs_mutual_information"]
    assert mi["num_pairs"] == 0
    assert all(math.isnan(mi[k]) for k in ("value", "miller_madow", "chance"))
