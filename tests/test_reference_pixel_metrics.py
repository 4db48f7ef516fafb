"""Pixel, temporal, probe and class metrics pinned on analytic cases and hand-built inputs whose
answers are known; feature metrics: ``test_reference_metrics.py``."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from scipy import stats

from sagan.data.probes import BACKGROUND, PALETTE, draw_shape, object_size
from sagan.metrics import swd
from sagan.metrics.domain import class_statistics, conditional_accuracy
from sagan.metrics.probes import (
    NO_OBJECT,
    class_table,
    mirror_error,
    mutual_information,
    pairs_agreement,
    pairs_classes,
)
from sagan.metrics.spectrum import mean_log_spectrum, ring_index, spectrum_distances
from sagan.metrics.temporal import motion_smoothness, temporal_consistency


def noise_images(seed: int, n: int = 16, side: int = 32) -> torch.Tensor:
    """(n, 3, side, side) uniform noise in [0, 255]."""
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 255


# --- sliced Wasserstein distance ------------------------------------------------------------------

points = st.integers(0, 2**16).map(
    lambda s: torch.randn(12, 5, generator=torch.Generator().manual_seed(s))
)


@settings(max_examples=25, deadline=None)
@given(points, points, points, st.floats(0.1, 10.0))
def test_sliced_wasserstein_is_a_metric_and_scales_with_the_points(a, b, c, scale):
    ab = swd.sliced_wasserstein(a, b, seed=0)
    assert swd.sliced_wasserstein(a, a, seed=0) == 0.0
    assert ab == pytest.approx(swd.sliced_wasserstein(b, a, seed=0), rel=1e-6)
    # with the same directions, each 1-D W1 obeys the triangle inequality, so their mean does
    triangle = swd.sliced_wasserstein(a, c, seed=0) + swd.sliced_wasserstein(c, b, seed=0)
    assert ab <= triangle + 1e-5
    assert swd.sliced_wasserstein(scale * a, scale * b, seed=0) == pytest.approx(
        scale * ab, rel=1e-4
    )


def test_sliced_wasserstein_of_a_shift_is_the_mean_projected_length():
    # every projection moves by v.theta, so SW = mean |v.theta| over unit directions theta,
    # whose expectation in d dimensions is |v| Gamma(d/2) / (sqrt(pi) Gamma((d + 1) / 2))
    d = 49
    a = torch.randn(300, d, generator=torch.Generator().manual_seed(0))
    v = torch.zeros(d)
    v[:4] = torch.tensor([3.0, -4.0, 0.0, 12.0])  # |v| = 13
    expected = 13 * math.gamma(d / 2) / (math.sqrt(math.pi) * math.gamma((d + 1) / 2))
    # 512 directions: a relative standard error of about 3.5%
    assert swd.sliced_wasserstein(a, a + v, seed=1) == pytest.approx(expected, rel=0.12)


def test_sliced_wasserstein_compares_unequal_sets_by_their_quantiles():
    a = torch.randn(40, 7, generator=torch.Generator().manual_seed(0))
    # every point three times has the same distribution: distance 0, in either order
    assert swd.sliced_wasserstein(a, a.repeat(3, 1), seed=2) == pytest.approx(0.0, abs=1e-6)
    assert swd.sliced_wasserstein(a.repeat(3, 1), a, seed=2) == pytest.approx(0.0, abs=1e-6)


def test_a_constant_image_has_empty_band_pass_levels():
    # the up-sampling's gain of 2 per axis restores a constant exactly, edges included
    levels = swd.laplacian_pyramid(torch.full((1, 1, 64, 64), 77.0))
    assert [tuple(x.shape[-2:]) for x in levels] == [(64, 64), (32, 32), (16, 16)]
    for band in levels[:-1]:
        assert band.abs().max() < 1e-4
    assert levels[-1].sub(77.0).abs().max() < 1e-4


def test_patches_are_taken_at_their_corners_rows_first():
    rows, cols = torch.meshgrid(torch.arange(20.0), torch.arange(20.0), indexing="ij")
    level = torch.stack([100 * rows + cols, -(100 * rows + cols)])[None]  # (1, 2, 20, 20)
    corners = torch.tensor([[[3, 10], [0, 13]]])  # (1, 2 patches, (row, col))
    patches = swd._take(level, corners)  # (2, 7, 7, 2)
    assert patches.shape == (2, 7, 7, 2)
    i, j = torch.meshgrid(torch.arange(7.0), torch.arange(7.0), indexing="ij")
    torch.testing.assert_close(patches[0, ..., 0], 100 * (3 + i) + 10 + j)
    torch.testing.assert_close(patches[1, ..., 1], -(100 * i + 13 + j))


def test_multiscale_swd_is_zero_for_identical_sets_and_blind_to_global_contrast():
    x = noise_images(0)
    assert swd.multiscale_swd(x, x.clone(), seed=0) == {32: 0.0, 16: 0.0}
    # each set's patches are normalised by their own mean and deviation (ProGAN)
    for value in swd.multiscale_swd(x, 0.5 * x + 40, seed=0).values():
        assert value < 0.01


def test_multiscale_swd_grows_with_noise_and_blur_shows_at_the_finest_level():
    x = noise_images(0)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    by_sigma = [swd.multiscale_swd(x, x + s * noise, seed=0) for s in (5, 20, 60)]
    for side in (32, 16):
        values = [levels[side] for levels in by_sigma]
        assert values == sorted(values) and values[0] > 1, (side, values)
    blurred = swd.multiscale_swd(x, swd._blur(x), seed=0)
    assert blurred[32] > 1.5 * blurred[16]


# --- power spectrum -------------------------------------------------------------------------------


def test_spectrum_distance_of_a_contrast_change_is_its_gain_in_decibels():
    x = noise_images(0)
    assert spectrum_distances(x, x.clone()) == {"spectrum_l1": 0.0, "spectrum_hf_l1": 0.0}
    # power scales by a^2 in every ring: 20 log10(a) dB everywhere (noise fills every ring)
    gain = 20 * math.log10(2.0)
    for value in spectrum_distances(x, 0.5 * x).values():
        assert value == pytest.approx(gain, rel=1e-5)
    for value in spectrum_distances(0.5 * x, x).values():
        assert value == pytest.approx(gain, rel=1e-5)


@pytest.mark.parametrize("k", [1, 5, 11])
def test_a_cosine_of_k_cycles_puts_its_power_in_ring_k(k):
    ring, rings = ring_index(32, 32)
    assert rings == math.floor(math.sqrt(2) * 16) + 1 and (ring == 0).sum() == 1
    wave = 128 + 100 * torch.cos(2 * math.pi * k * torch.arange(32) / 32)  # (32,)
    across, down = wave.expand(32, 32), wave[:, None].expand(32, 32)
    for image in (across, down):
        spectrum = mean_log_spectrum(image.expand(1, 1, 32, 32))
        assert int(spectrum[1:].argmax()) + 1 == k
    diagonal = mean_log_spectrum((across + down - 128).expand(1, 1, 32, 32))
    assert int(diagonal[1:].argmax()) + 1 == k  # the two waves' rings, not sqrt(2) k
    if k == 5:  # a product of two waves holds frequency (5, 5): radius 5 sqrt 2, ring 7
        product = 128 + 100 * torch.outer(
            *(2 * [torch.cos(2 * math.pi * 5 * torch.arange(32) / 32)])
        )
        assert int(mean_log_spectrum(product.expand(1, 1, 32, 32))[1:].argmax()) + 1 == 7


def test_grey_is_luma_and_a_flat_colour_changes_only_the_mean_ring():
    red, green = torch.zeros(2, 3, 16, 16), torch.zeros(2, 3, 16, 16)
    red[:, 0], green[:, 1] = 255, 255
    _, rings = ring_index(16, 16)
    # only ring 0 (the mean) has power: grey 0.299 against 0.587
    expected = 20 * math.log10(0.587 / 0.299) / rings
    assert spectrum_distances(red, green)["spectrum_l1"] == pytest.approx(expected, rel=1e-9)
    assert spectrum_distances(red, green)["spectrum_hf_l1"] == 0.0
    assert float(mean_log_spectrum(red)[0]) == pytest.approx(20 * math.log10(0.299))


def test_a_cosine_has_its_power_averaged_over_its_ring():
    # 128 + 100 cos(...) in [0, 255] is 128/255 + (100/255) cos(...) in grey: the FFT / (H W)
    # holds the mean at DC (ring 0, alone) and (100/255) / 2 at (0, +-k), both in ring k
    k, side = 3, 32
    wave = 128 + 100 * torch.cos(2 * math.pi * k * torch.arange(side).double() / side)
    spectrum = mean_log_spectrum(wave.expand(1, 1, side, side))
    ring, _ = ring_index(side, side)
    members = int((ring == k).sum())
    assert float(spectrum[0]) == pytest.approx(20 * math.log10(128 / 255), rel=1e-9)
    power = 2 * (100 / 255 / 2) ** 2 / members  # the ring's mean, not its sum
    assert float(spectrum[k]) == pytest.approx(10 * math.log10(power), rel=1e-6)


def test_blur_shows_in_the_high_frequency_half_more_than_overall():
    x = noise_images(0)
    result = spectrum_distances(x, swd._blur(x))
    assert result["spectrum_hf_l1"] > 1.3 * result["spectrum_l1"]


# --- temporal scores ------------------------------------------------------------------------------


def one_hot_frames(classes_per_clip: list[list[int | None]], k: int = 4) -> torch.Tensor:
    """(B * T, k) probabilities, clip by clip: 0.9 on each frame's class, none for None."""
    rows = []
    for clip in classes_per_clip:
        for c in clip:
            row = torch.full((k,), 0.02)
            if c is not None:
                row[c] = 0.9
            rows.append(row)
    return torch.stack(rows)


def test_temporal_consistency_of_hand_built_clips():
    probs = one_hot_frames([[0, 0, 0], [2, 2, 2], [1, 1, 3], [None, None, None]])
    assert temporal_consistency(probs, frames=3) == 0.5  # the class change and the blank fail
    # a frame that adds a second class is a change too
    extra = probs.clone()
    extra[1, 3] = 0.8
    assert temporal_consistency(extra, frames=3) == 0.25


def test_temporal_consistency_reads_each_clips_frames_together():
    # clip by clip: [0 0 0] [1 1 1]; read frame by frame, clip 0 would be 0 0 1
    probs = one_hot_frames([[0, 0, 0], [1, 1, 1]])
    assert temporal_consistency(probs, frames=3) == 1.0
    frame_major = probs.reshape(2, 3, 4).transpose(0, 1).flatten(0, 1)
    assert temporal_consistency(frame_major, frames=3) == 0.0


def ramp_clip(order: list[int], channels: int = 3, side: int = 4) -> torch.Tensor:
    """(1, C, T, H, W): frame t is flat at value order[t]."""
    values = torch.tensor(order, dtype=torch.float32)  # (T,)
    return values[None, None, :, None, None].expand(1, channels, len(order), side, side).clone()


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9))
def test_motion_smoothness_of_a_steady_ramp_is_one_minus_three_over_t_plus_one(t):
    # consecutive frames differ by 1; the mean |i - j| over ordered pairs i != j is (T + 1) / 3
    assert motion_smoothness(ramp_clip(list(range(t)))) == pytest.approx(1 - 3 / (t + 1), abs=1e-5)


def test_motion_smoothness_of_shuffled_and_still_clips():
    # order 0 4 1 3 2: steps 4, 3, 2, 1 (mean 2.5); all pairs of 0..4: mean 2
    assert motion_smoothness(ramp_clip([0, 4, 1, 3, 2])) == pytest.approx(1 - 2.5 / 2, abs=1e-5)
    assert motion_smoothness(ramp_clip([2] * 5)) == 0.0
    clips = torch.cat([ramp_clip(list(range(5))), ramp_clip([0, 4, 1, 3, 2])])
    assert motion_smoothness(clips) == pytest.approx((0.5 - 0.25) / 2, abs=1e-5)


def test_motion_smoothness_reads_time_from_the_third_axis():
    # (1, C=2, T=5, H=3, W=4) that is smooth in time and jumps along C, H and W
    t = torch.arange(5.0)[None, None, :, None, None]
    jumps = 50 * torch.tensor([0.0, 1.0])[None, :, None, None, None]
    jumps = (
        jumps
        + 50 * torch.tensor([0.0, 1.0, 0.0])[:, None]
        + 50 * torch.tensor([0.0, 1.0, 0.0, 1.0])
    )
    clip = t + jumps  # (1, 2, 5, 3, 4)
    assert motion_smoothness(clip) == pytest.approx(0.5, abs=1e-5)  # 1 - 3 / (5 + 1)
    for swapped in (clip.transpose(1, 2), clip.transpose(2, 3), clip.transpose(2, 4)):
        assert motion_smoothness(swapped.contiguous()) != pytest.approx(0.5, abs=0.05)


# --- probes ---------------------------------------------------------------------------------------


def test_mirror_error_of_hand_built_images():
    halves = torch.zeros(1, 3, 8, 8)
    halves[..., :4] = 255
    assert mirror_error(halves) == 1.0
    one_pixel = torch.zeros(1, 3, 8, 8)
    one_pixel[:, :, 2, 1] = 255  # differs from its mirror at (2, 1) and (2, 6): 2 of 64
    assert mirror_error(one_pixel) == pytest.approx(2 / 64)
    assert mirror_error(halves.flip(-2)) == 1.0  # flipping rows is no mirror
    assert mirror_error(halves + halves.flip(-1)) == 0.0


def pair_image(
    left: tuple[str, int] | None, right: tuple[str, int] | None, r: int = 32, shift: int = 0
):
    """(3, r, r) float pixels: a grey field with the given (shape, colour) in each third,
    the right one ``shift`` px further right (negative: towards the middle)."""
    img = Image.new("RGB", (r, r), (BACKGROUND,) * 3)
    draw, size, third = ImageDraw.Draw(img), object_size(r), r // 3
    for x0, obj in ((0, left), (r - third + shift, right)):
        if obj is not None:
            draw_shape(
                draw, obj[0], x0, (r - size) // 2, size, tuple(int(c) for c in PALETTE[obj[1]])
            )
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float()


def test_pairs_classes_and_agreement_of_hand_built_images():
    images = torch.stack([
        pair_image(("square", 0), ("square", 0)),  # class 0 twice: agree
        pair_image(("circle", 1), ("circle", 1)),  # class 1 * 3 + 1 = 4 twice: agree
        pair_image(("triangle", 2), ("square", 2)),  # 8 against 2: disagree
        pair_image(("square", 0), None),  # no right object: disagree
    ])  # fmt: skip
    expected = [[0, 0], [4, 4], [8, 2], [0, NO_OBJECT]]
    assert pairs_classes(images).tolist() == expected
    assert pairs_agreement(images) == 0.5
    # a right object mostly in the middle third (6 of its 10 columns) is no right object
    middle = pair_image(("square", 0), ("square", 0), shift=-6)
    assert pairs_classes(middle[None]).tolist() == [[0, NO_OBJECT]]
    # both sides empty agree on nothing
    assert pairs_agreement(torch.stack([pair_image(None, None)])) == 0.0


def test_pairs_mutual_information_matches_the_entropy_identity():
    rng = np.random.default_rng(0)
    classes = np.stack([rng.integers(0, 9, 300), rng.integers(0, 9, 300)], axis=1)
    classes[:150, 1] = classes[:150, 0]  # half the pairs agree: dependence, asymmetric table
    classes[:20, 1] = (classes[:20, 0] + 1) % 9
    pairs = class_table(classes)[:-1, :-1]
    p = pairs / pairs.sum()

    def entropy(q):
        return stats.entropy(q.ravel(), base=2)

    identity = entropy(p.sum(1)) + entropy(p.sum(0)) - entropy(p)
    assert mutual_information(pairs) == pytest.approx(identity, rel=1e-10)
    assert identity > 0.5


# --- class scores ---------------------------------------------------------------------------------


def test_conditional_accuracy_and_class_statistics_of_hand_built_predictions():
    probs = np.array([
        [0.7, 0.2, 0.1],  # -> 0
        [0.1, 0.8, 0.1],  # -> 1
        [0.3, 0.3, 0.4],  # -> 2
        [0.6, 0.3, 0.1],  # -> 0
    ])  # fmt: skip
    assert conditional_accuracy(probs, np.array([0, 1, 0, 1])) == 0.5
    assert conditional_accuracy(probs, np.array([0, 1, 2, 0])) == 1.0
    with pytest.raises(ValueError):
        conditional_accuracy(probs, np.array([0, 1, 2]))
    # shares 2/4, 1/4, 1/4, each at least half of 1/3; mean top probability 2.5 / 4
    assert class_statistics(probs) == {
        "class_coverage": 1.0,
        "class_confidence": pytest.approx(2.5 / 4),
    }
    collapsed = class_statistics(probs[[0, 3, 0, 3, 1]])  # shares 4/5, 1/5, 0
    assert collapsed["class_coverage"] == pytest.approx(2 / 3)
