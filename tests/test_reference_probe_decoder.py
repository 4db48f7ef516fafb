"""The pairs probe's object decoder pinned at each of its tolerances, on hand-built regions one
pixel either side of the bound: a decoder whose tolerance drifts would score real pairs as
broken, or broken images as real, with no other test noticing.

The probe's objects are ``object_size(32) = 10`` pixels wide. A blob is drawn as the ring of
its bounding box (which fixes the box and keeps the blob 4-connected) plus interior pixels,
so its pixel count and its box can be set apart.
"""

import numpy as np
import pytest

from sagan.data.probes import BACKGROUND, PALETTE
from sagan.metrics.probes import _decode_object

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
