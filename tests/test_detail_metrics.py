"""Detail-distortion metrics (SWD of ProGAN, radial power spectra) on analytic cases."""

import pytest
import torch

from sagan.errors import ConfigError
from sagan.metrics.declared import annotate, declare_metric, undeclare_metric
from sagan.metrics.pixel_metrics import PIXEL_METRICS, PixelMetric, pixel_metrics, spread
from sagan.metrics.spectrum import mean_log_spectrum, spectrum_distances
from sagan.metrics.swd import _blur, laplacian_pyramid, multiscale_swd, sliced_wasserstein


def rectangles(n: int, side: int, seed: int) -> torch.Tensor:
    """(n, 3, side, side) pixels in [0, 255]: six random flat-coloured rectangles on grey,
    so the images have sharp edges (detail) and layout at every scale."""
    g = torch.Generator().manual_seed(seed)
    x = torch.full((n, 3, side, side), 128.0)
    ys, xs = torch.arange(side).view(1, 1, side, 1), torch.arange(side).view(1, 1, 1, side)
    for _ in range(6):
        colour = torch.randint(0, 256, (n, 3, 1, 1), generator=g).float()
        y0, x0 = (torch.randint(0, side, (n, 1, 1, 1), generator=g) for _ in range(2))
        h, w = (torch.randint(side // 8, side // 2, (n, 1, 1, 1), generator=g) for _ in range(2))
        inside = (ys >= y0) & (ys < y0 + h) & (xs >= x0) & (xs < x0 + w)
        x = torch.where(inside, colour, x)
    return x


@pytest.fixture(scope="module")
def real():
    return rectangles(24, 64, seed=0)


@pytest.fixture(scope="module")
def fake(real):
    return rectangles(len(real), 64, seed=1)  # other images of the same distribution


def test_identical_sets_are_at_distance_zero(real):
    metrics = pixel_metrics(real, real.clone(), seed=3)
    names = ["swd_64px", "swd_32px", "swd_16px", "swd_mean", "spectrum_l1", "spectrum_hf_l1"]
    assert sorted(metrics) == sorted(names)
    assert all(metrics[n]["value"] == pytest.approx(0, abs=1e-9) for n in names)
    swd = annotate(metrics)["swd_64px"]
    assert swd["extractor"] is None and swd["input"] == "pixels" and "1e3" in swd["unit"]
    assert swd["better"] == "lower" and swd["num_samples"] == len(real)
    assert "dB" in annotate(metrics)["spectrum_l1"]["unit"]


def test_blur_raises_the_fine_levels_far_more_than_the_coarsest(real):
    # from 0 (identical sets): measured about 100, 33 and 10 (x1e3) at 64, 32 and 16 px
    blurred = multiscale_swd(real, _blur(_blur(real)), seed=0)
    assert blurred[64] > blurred[32] > blurred[16] > 0
    assert blurred[64] > 5 * blurred[16]


def test_a_constant_image_has_no_band_pass_detail():
    levels = laplacian_pyramid(torch.full((2, 3, 32, 32), 77.0))
    assert [lv.shape[-1] for lv in levels] == [32, 16]
    assert levels[0].abs().max() < 1e-4 and torch.allclose(levels[1], torch.tensor(77.0))


def test_unequal_sets_compare_their_quantiles():
    a = torch.randn(50, 6)
    assert sliced_wasserstein(a, torch.cat([a, a]), seed=0) == pytest.approx(0, abs=1e-9)
    assert sliced_wasserstein(a, torch.cat([a, a + 1]), seed=0) > 0.1


def test_a_high_frequency_checkerboard_shows_in_the_high_frequencies(real, fake):
    side = real.shape[-1]
    checker = 20.0 * (-1.0) ** (torch.arange(side)[:, None] + torch.arange(side)[None, :])
    clean, marked = spectrum_distances(real, fake), spectrum_distances(real, fake + checker)
    assert marked["spectrum_hf_l1"] > clean["spectrum_hf_l1"] + 1  # dB
    low = len(mean_log_spectrum(real)) // 2
    low_gap = (mean_log_spectrum(fake + checker) - mean_log_spectrum(fake))[:low].abs().max()
    assert low_gap < 1e-6 < marked["spectrum_hf_l1"] - clean["spectrum_hf_l1"]


def test_a_registered_pixel_metric_is_reported_with_its_declared_unit():
    def mean_gap(real, fake, seed):
        return {"mean_gap": (real.float().mean() - fake.mean()).abs().item()}

    PIXEL_METRICS.register("mean_gap")(lambda: PixelMetric(mean_gap))
    declare_metric("mean_gap", better="lower", unit="grey levels")
    try:
        images = rectangles(4, 16, seed=0)
        metrics = annotate(pixel_metrics(images, images + 2, seed=0))
    finally:
        PIXEL_METRICS.unregister("mean_gap")
        undeclare_metric("mean_gap")
    assert metrics["mean_gap"]["value"] == pytest.approx(2) and "swd_16px" in metrics
    tiny = rectangles(4, 6, seed=0)  # no 7x7 patch fits: the spectrum only
    assert sorted(pixel_metrics(tiny, tiny, seed=0)) == ["spectrum_hf_l1", "spectrum_l1"]
    assert metrics["mean_gap"]["unit"] == "grey levels" and metrics["mean_gap"]["num_samples"] == 4


def test_large_sets_are_scored_on_1024_images_spread_over_them():
    picked = spread(torch.arange(5000))
    assert len(picked) == 1024 and picked[0] == 0 and picked[-1] == 4999
    assert (picked.diff() >= 4).all() and torch.equal(spread(torch.arange(10)), torch.arange(10))


def test_a_skipped_pixel_metric_is_not_computed_and_an_unknown_name_is_refused(real, fake):
    metrics = pixel_metrics(real, fake, seed=0, skip=("swd",))
    assert sorted(metrics) == ["spectrum_hf_l1", "spectrum_l1"]
    with pytest.raises(ConfigError, match="no pixel metric 'sdw'; registered: spectrum, swd"):
        pixel_metrics(real, fake, seed=0, skip=("sdw",))
