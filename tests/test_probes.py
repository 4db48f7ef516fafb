"""Structure probes: deterministic data and exact scores that separate real, broken and noise."""

import numpy as np
import pytest
import torch

from sagan import layout
from sagan.data import DATASETS
from sagan.data.probes import BACKGROUND, object_size
from sagan.errors import ConfigError
from sagan.metrics.declared import better
from sagan.metrics.probes import PROBE_SCORES
from sagan.study import data_key


def probe_images(name: str, resolution: int, count: int = 200, seed: int = 1) -> torch.Tensor:
    raw = DATASETS.build(name, {"count": count, "resolution": resolution, "seed": seed})
    return torch.from_numpy(raw.images).permute(0, 3, 1, 2).float()  # (N, 3, r, r)


def swap_right_halves(x: torch.Tensor) -> torch.Tensor:
    """Break long-range structure: each image's right half comes from the next image."""
    broken = x.clone()
    half = x.shape[-1] // 2
    broken[..., half:] = x.roll(1, dims=0)[..., half:]
    return broken


@pytest.mark.parametrize("name", ["mirror", "pairs"])
def test_probes_are_deterministic_from_the_seed(name):
    a, b = (
        DATASETS.build(name, {"count": 5, "seed": 3}),
        DATASETS.build(name, {"count": 5, "seed": 3}),
    )
    c = DATASETS.build(name, {"count": 5, "seed": 4})
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (5, 32, 32, 3) and a.images.dtype == np.uint8


@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_mirror_error_is_zero_on_real_chance_on_noise_and_high_when_broken(resolution):
    probe = PROBE_SCORES.build("mirror")
    real = probe_images("mirror", resolution)
    assert probe.score(real) == 0.0
    noise = torch.rand_like(real) * 255
    assert probe.score(noise) == pytest.approx(probe.chance, abs=0.01)
    assert probe.score(swap_right_halves(real)) > 0.05
    assert better(probe.name) == "lower"


@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_pairs_agreement_is_one_on_real_about_chance_when_broken_zero_on_noise(resolution):
    probe = PROBE_SCORES.build("pairs")
    real = probe_images("pairs", resolution, count=400)
    assert probe.score(real) == 1.0
    assert probe.score(swap_right_halves(real)) == pytest.approx(probe.chance, abs=0.04)
    assert probe.score(torch.rand_like(real) * 255) == 0.0
    assert probe.chance == pytest.approx(1 / 9)


def test_pairs_labels_name_the_shared_shape_and_colour():
    raw = DATASETS.build("pairs", {"count": 300})
    assert set(raw.labels.tolist()) == set(range(9))  # 3 shapes x 3 colours, all drawn


def test_pairs_tolerates_dimmer_colours_but_not_a_recoloured_partner():
    probe = PROBE_SCORES.build("pairs")
    real = probe_images("pairs", 32, count=100)
    assert probe.score(real * 0.9) == 1.0  # a darker colour is still the nearest palette entry
    recoloured = real.clone()
    recoloured[..., 22:] = real[:, [1, 2, 0], :, 22:]  # right third: R, G, B -> G, B, R
    assert probe.score(recoloured) == 0.0


def test_pairs_ignores_specks_on_the_field_but_not_a_second_object():
    probe = PROBE_SCORES.build("pairs")
    real = probe_images("pairs", 32, count=50)
    specks = real.clone()
    specks[:, :, 0, 0] = specks[:, :, 31, 31] = 255.0
    specks[:, :, 31, 0] = 0.0  # corners: 1 px each
    assert probe.score(specks) == 1.0  # the object is the largest blob, not the bounding box
    doubled = torch.full((1, 3, 32, 32), 128.0)  # grey field, a red square on the right
    doubled[0, :, 11:21, 22:32] = torch.tensor([255.0, 0.0, 0.0])[:, None, None]
    assert probe.score(doubled) == 0.0  # nothing on the left
    for top in (2, 20):  # two red 8 px squares on the left: each alone would match
        doubled[0, :, top : top + 8, 1:9] = torch.tensor([255.0, 0.0, 0.0])[:, None, None]
    assert probe.score(doubled) == 0.0


def test_bad_probe_resolution_is_a_config_error():
    with pytest.raises(ConfigError, match="even resolution >= 16"):
        DATASETS.build("mirror", {"resolution": 15})


def test_prepare_draws_probes_at_the_target_resolution(tmp_path):
    from sagan.data import prepare

    data = prepare("pairs", 16, tmp_path / "pairs.pt", heldout=36, options={"count": 180})
    assert data.images.shape == (180, 3, 16, 16) and data.meta["num_classes"] == 9
    drawn = probe_images("pairs", 16, count=180, seed=0)
    assert torch.equal(data.images.float(), drawn)  # drawn at 16 px, not resized into blur
    assert PROBE_SCORES.build("pairs").score(data.images[data.heldout].float()) == 1.0


@pytest.mark.parametrize("resolution", [32, 64])
def test_pairs_objects_sit_within_a_tenth_of_the_side_of_the_middle_height(resolution):
    raw = DATASETS.build("pairs", {"count": 200, "seed": 3, "resolution": resolution})
    away = np.abs(raw.images.astype(int) - BACKGROUND).max(-1) > 64  # (N, H, W)
    size = object_size(resolution)
    middle, jitter = (resolution - size) / 2, resolution // 10
    tops = [np.nonzero(a[:, side].any(1))[0][0] for a in away for side in _thirds(resolution)]
    assert max(abs(t - middle) for t in tops) <= jitter + 0.5
    assert len(set(tops)) > 2  # the heights still vary


def _thirds(resolution: int) -> tuple[slice, slice]:
    third = resolution // 3
    return slice(0, third), slice(resolution - third, resolution)


def test_a_redrawn_source_gets_new_prepared_data_and_an_old_one_keeps_its_key():
    assert layout.data_key("x", 32, 400, {}) == layout.data_key("x", 32, 400, {}, version=1)
    assert layout.data_key("x", 32, 400, {}, version=2) != layout.data_key("x", 32, 400, {})
    study = {"datasets": {"pairs": {"resolution": 32, "heldout": 400}}}
    version = DATASETS.get("pairs").version
    assert version > 1  # pairs was redrawn (heights near the middle)
    assert data_key(study, "pairs") == layout.data_key("pairs", 32, 400, {}, version)
    assert data_key(study, "pairs") != layout.data_key("pairs", 32, 400, {})


def test_pairs_images_do_not_repeat_so_held_out_images_are_new():
    x = probe_images("pairs", 32, count=1000)
    assert len(torch.unique(x.flatten(1), dim=0)) >= 990
