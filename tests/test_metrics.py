import numpy as np
import pytest
import torch

from sagan.images import to_pixel_range
from sagan.metrics.distances import frechet_distance, kernel_distance


@pytest.fixture
def feats():
    return np.random.default_rng(0).normal(size=(500, 8))


def test_fd_of_a_feature_set_with_itself_is_zero(feats):
    assert abs(frechet_distance(feats, feats)) < 1e-6


def test_fd_of_a_shifted_set_is_the_squared_shift(feats):
    shift = np.full(8, 0.5)
    assert frechet_distance(feats, feats + shift) == pytest.approx(8 * 0.25, rel=1e-6)


def test_fd_grows_with_a_change_of_spread(feats):
    assert frechet_distance(feats, 2 * feats) > 1.0


def test_kid_is_reproducible_and_leaves_the_global_rng_alone(feats):
    other = feats + 0.3
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    a, b = kernel_distance(feats, other, seed=1), kernel_distance(feats, other, seed=1)
    assert a == b and a > 0
    assert np.array_equal(np.random.get_state()[1], before)
    assert abs(kernel_distance(feats, feats, seed=1)) < abs(a)


def test_pixel_mapping_hits_0_and_255_and_clamps():
    x = torch.tensor([-1.0, 0.0, 1.0, -1.5, 1.5])
    assert to_pixel_range(x).tolist() == [0.0, 128.0, 255.0, 0.0, 255.0]


def test_sample_grid_places_every_image_on_a_white_background():
    from sagan.images import grid_pixels

    images = torch.stack([torch.full((1, 2, 3), v) for v in (-1.0, 0.0, 1.0)])  # (3, 1, 2, 3)
    grid = grid_pixels(images, nrow=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1) and grid.dtype == torch.uint8
    assert grid[1:3, 1:4].unique().tolist() == [0]  # first image, black
    assert grid[1:3, 5:8].unique().tolist() == [128]  # second, mid grey
    assert grid[4:6, 1:4].unique().tolist() == [255]  # third, white, on the next row
    assert grid[0].unique().tolist() == [255] and grid[4:6, 5:8].unique().tolist() == [255]


def test_metric_names_say_fid_only_for_inception():
    from sagan.metrics.suite import metric_name

    assert metric_name("fd", "inception") == "fid" and metric_name("kid", "inception") == "kid"
    assert metric_name("fd", "domain") == "fd_domain"
    assert metric_name("fd_train", "domain") == "fd_domain_train"
    assert metric_name("precision", "inception") == "precision"
    assert metric_name("fd_train", "inception") == "fid_train"
