import copy
from pathlib import Path

import pytest
import yaml

from sagan.config import (
    ModelConfig,
    RunConfig,
    TrainConfig,
    from_dict,
    load_run_config,
    save_run_config,
)
from sagan.errors import ConfigError
from sagan.registry import VARIANTS
from sagan.study import run_config, runs, validate_study

DEFAULT = yaml.safe_load((Path(__file__).parents[1] / "config/default.yaml").read_text())


def test_unknown_key_fails_and_lists_allowed():
    with pytest.raises(ConfigError, match=r"'iters'.*allowed: iterations"):
        from_dict(TrainConfig, {"iters": 5}, "train")


def test_types_are_checked_and_coerced():
    cfg = from_dict(TrainConfig, {"lr_g": 1, "betas": [0, 0.9]})
    assert cfg.lr_g == 1.0 and cfg.betas == (0, 0.9)
    with pytest.raises(ConfigError, match="train.iterations must be an integer"):
        from_dict(TrainConfig, {"iterations": 2.5}, "train")
    with pytest.raises(ConfigError, match="train.lr_d must be a number"):
        from_dict(TrainConfig, {"lr_d": "4e-4"}, "train")  # YAML reads 4e-4 as a string
    with pytest.raises(ConfigError, match="model.conditional must be true or false"):
        from_dict(ModelConfig, {"conditional": "yes"}, "model")


def test_run_config_round_trips(tmp_path):
    cfg = from_dict(
        RunConfig,
        {"variant": "sagan", "variant_options": {"g_resolutions": [8]}, "train": {"iterations": 7}},
    )
    save_run_config(cfg, tmp_path / "c.yaml")
    assert load_run_config(tmp_path / "c.yaml") == cfg


def test_default_study_is_valid_and_expands_to_every_run():
    from sagan.metrics.probes import PROBE_SCORES

    validate_study(DEFAULT)
    assert "digits" in DEFAULT["datasets"] and len(DEFAULT["sizes"]) >= 2
    assert any(name in PROBE_SCORES for name in DEFAULT["datasets"])
    expanded = runs(DEFAULT)
    image = [r for r in expanded if r.dataset != "moving-digits"]
    video = [r for r in expanded if r.dataset == "moving-digits"]
    # every image variant on both image datasets, 2 sizes x 2 seeds; video variants on video
    assert len(image) == 2 * 5 * 2 * 2 and {r.variant for r in image} == set(
        VARIANTS.names("image")
    )
    assert {r.variant for r in video} == set(VARIANTS.names("video"))
    assert len(video) == 3 * 1 * 2  # the video dataset's own sizes: [full]
    paths = {"data": "d.pt", "extractor": "e.pt", "reference": "r.pt", "train_reference": "t.pt"}
    cfg = run_config(DEFAULT, image[-1], paths)
    assert cfg.train.seed == image[-1].seed and cfg.eval.reference_path == "r.pt"
    assert cfg.train.iterations == DEFAULT["train"]["iterations"]
    clip = run_config(DEFAULT, video[-1], paths)  # the dataset's own keys over the study's
    assert clip.model.width == 8 and clip.train.iterations == 400 and clip.model.z_dim == 128


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["variants"].update(nope={}), r"unknown variant 'nope'.*dcgan"),
        (
            lambda s: s["datasets"].update(mnist5={"resolution": 32, "heldout": 9}),
            r"unknown dataset 'mnist5'.*digits",
        ),
        (
            lambda s: s["variants"].update(sagan={"g_resolutions": [64]}),
            r"G at feature-map resolution\(s\) \[64\].*\[4, 8, 16, 32\]",
        ),
        (lambda s: s["variants"].update(sagan={"heads": 2}), r"no option\(s\) 'heads'"),
        (lambda s: s["train"].update(lr=1), r"'lr' in train"),
        (lambda s: s.update(sizes=[0]), r"sizes: 0"),
        (lambda s: s["evaluation"].update(extractor="inception3"), r"unknown extractor"),
    ],
)
def test_bad_study_names_the_key_and_the_allowed_values(edit, message):
    study = copy.deepcopy(DEFAULT)
    edit(study)
    with pytest.raises(ConfigError, match=message):
        validate_study(study)


def test_paper_study_is_valid_without_its_data():
    paper = yaml.safe_load((Path(__file__).parents[1] / "config/paper.yaml").read_text())
    validate_study(paper)
    assert {"cifar10", "celeba", "lsun", "imagefolder"} <= set(paper["datasets"])
    assert "full" in paper["sizes"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, r"dataset 'cifar10' needs option\(s\) 'root'"),
        ({"root": "x", "dowload": True}, r"no option\(s\) 'dowload'.*download"),
    ],
)
def test_dataset_options_are_checked_before_any_data_is_read(options, message):
    study = copy.deepcopy(DEFAULT)
    study["datasets"]["cifar10"] = {"resolution": 32, "heldout": 100, "options": options}
    with pytest.raises(ConfigError, match=message):
        validate_study(study)
