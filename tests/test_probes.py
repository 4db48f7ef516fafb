"""Structure probes: deterministic data and exact scores that separate real, broken and noise."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sagan import layout
from sagan.data import DATASETS
from sagan.data.probes import BACKGROUND, object_size
from sagan.errors import ConfigError
from sagan.metrics.declared import annotate, better
from sagan.metrics.image_evaluate import probe_metric
from sagan.metrics.probes import (
    NO_OBJECT,
    PROBE_SCORES,
    class_table,
    independence_baseline,
    mutual_information,
    pairs_dependence,
    plug_in_bias,
)
from sagan.study import data_key
from sagan.study.model import parse_study


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
    assert data.images.shape == (180, 3, 16, 16) and data.meta.num_classes == 9
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
    pairs = {"pairs": {"resolution": 32, "heldout": 400}}
    study = {"study": "p", "datasets": pairs, "variants": {"dcgan": None}}
    version = DATASETS.get("pairs").version
    assert version > 1  # pairs was redrawn (heights near the middle)
    assert data_key(parse_study(study), "pairs") == layout.data_key("pairs", 32, 400, {}, version)
    assert data_key(parse_study(study), "pairs") != layout.data_key("pairs", 32, 400, {})


def test_pairs_images_do_not_repeat_so_held_out_images_are_new():
    x = probe_images("pairs", 32, count=1000)
    assert len(torch.unique(x.flatten(1), dim=0)) >= 990


# -- pairs against its own independence baseline ---------------------------------------------
def table_of(pairs: list[tuple[int, int]], k: int = 9) -> np.ndarray:
    return class_table(np.array(pairs, dtype=np.int64).reshape(-1, 2), k)


def test_a_perfectly_dependent_table_agrees_above_its_baseline_and_shares_all_its_bits():
    table = table_of([(0, 0), (1, 1), (2, 2), (3, 3)] * 5)  # 4 classes, each side the other's
    assert independence_baseline(table) == pytest.approx(4 * (1 / 4) ** 2)  # 0.25
    assert mutual_information(table) == pytest.approx(2.0)  # log2 4
    # Miller-Madow: 4 cells seen, 4 classes per side: (4 - 4 - 4 + 1) / (2 n ln 2) bits back
    assert mutual_information(table, miller_madow=True) == pytest.approx(
        2.0 + 3 / (2 * 20 * np.log(2))
    )


def test_an_independent_table_has_no_information_and_agrees_at_its_baseline():
    left, right = [0, 0, 0, 1], [0, 1, 2, 2]  # p_left = (3/4, 1/4), p_right = (1/4, 1/4, 1/2)
    table = table_of([(a, b) for a in left for b in right])  # every combination once
    assert mutual_information(table) == pytest.approx(0.0, abs=1e-12)
    assert independence_baseline(table) == pytest.approx(3 / 4 * 1 / 4 + 1 / 4 * 1 / 4)
    assert np.trace(table[:-1, :-1]) / table.sum() == pytest.approx(independence_baseline(table))


def test_a_generator_collapsed_onto_one_class_agrees_fully_by_chance_alone():
    table = table_of([(4, 4)] * 50)
    assert independence_baseline(table) == 1.0  # what the 1/9 line missed
    assert mutual_information(table) == 0.0
    assert plug_in_bias(table) == 0.0  # one class a side: nothing to overfit


def test_no_object_agrees_with_nothing_and_leaves_the_baseline_at_the_classes():
    table = table_of([(NO_OBJECT, NO_OBJECT), (0, 0)])
    assert table.shape == (10, 10) and table[-1, -1] == 1 and table[0, 0] == 1
    assert independence_baseline(table) == pytest.approx(0.25)  # (1/2)(1/2): only class 0


def test_pairs_dependence_is_high_on_real_none_when_broken_and_zero_when_collapsed():
    real = probe_images("pairs", 32, count=400)
    found = pairs_dependence(real)
    baseline = found["pairs_independence_baseline"]["value"]
    assert baseline == pytest.approx(1 / 9, abs=0.02)  # real classes are near uniform
    assert found["pairs_excess_agreement"]["value"] == pytest.approx(1 - baseline)
    assert found["pairs_mutual_information"]["value"] > np.log2(9) - 0.05
    assert found["pairs_mutual_information"]["num_pairs"] == 400
    broken = pairs_dependence(swap_right_halves(real))
    assert abs(broken["pairs_excess_agreement"]["value"]) < 0.04
    mi = broken["pairs_mutual_information"]
    assert mi["value"] < 2 * mi["chance"] and abs(mi["miller_madow"]) < 0.1
    labels = DATASETS.build("pairs", {"count": 400, "resolution": 32, "seed": 1}).labels
    collapsed = pairs_dependence(real[torch.from_numpy(labels == labels[0])])
    assert collapsed["pairs_independence_baseline"]["value"] == 1.0
    assert collapsed["pairs_excess_agreement"]["value"] == 0.0
    assert collapsed["pairs_mutual_information"]["value"] == 0.0


def test_pairs_metrics_carry_the_real_value_and_sample_count_and_are_declared():
    real = probe_images("pairs", 32, count=60)
    data = SimpleNamespace(images=real.to(torch.uint8), heldout=torch.arange(30, 60))
    cfg = SimpleNamespace(
        data=SimpleNamespace(source="", dataset="pairs"), eval=SimpleNamespace(seed=7)
    )
    fake = real[:30].clone()
    fake[..., 22:] = fake[..., 22:].roll(1, dims=0)  # right objects from the previous image
    metrics = annotate(probe_metric(cfg, fake, data))
    names = ("pairs_independence_baseline", "pairs_excess_agreement", "pairs_mutual_information")
    assert set(names) < set(metrics)
    for name in names:
        entry = metrics[name]
        assert entry["num_samples"] == 30 and entry["sample_seed"] == 7
        assert np.isfinite(entry["value"]) and np.isfinite(entry["real_heldout"])
    assert metrics["pairs_excess_agreement"]["real_heldout"] > 0.8
    assert metrics["pairs_excess_agreement"]["value"] < 0.3
    assert better("pairs_excess_agreement") == better("pairs_mutual_information") == "higher"
    assert metrics["pairs_mutual_information"]["samples"].endswith("both objects decoded")
