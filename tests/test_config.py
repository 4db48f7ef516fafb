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
from sagan.study.model import parse_study

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
    validate_study(parse_study(DEFAULT))
    assert "digits" in DEFAULT["datasets"] and len(DEFAULT["sizes"]) >= 2
    assert not set(DEFAULT["seeds"]) & set(DEFAULT["pilot_seeds"])  # tuned on other seeds
    expanded = runs(parse_study(DEFAULT))
    count = {d: sum(r.dataset == d for r in expanded) for d in DEFAULT["datasets"]}
    # each dataset's own arms x its sizes x 3 seeds; the placement sweep expands to 3 arms
    assert count == {"digits": 2 * 2 * 3, "digits-place": 4 * 1 * 3, "digits-topk": 2 * 1 * 3}
    assert {r.arm for r in expanded if r.dataset == "digits-place"} == {
        "dcgan",
        "place.g4",
        "place.g8",
        "place.g16",
    }
    paths = {"data": "d.pt", "extractor": "e.pt", "reference": "r.pt", "train_reference": "t.pt"}
    digits = [r for r in expanded if r.dataset == "digits"]
    cfg = run_config(parse_study(DEFAULT), digits[-1], paths)
    assert cfg.train.seed == digits[-1].seed and cfg.eval.reference_path == "r.pt"
    assert cfg.train.iterations == DEFAULT["train"]["iterations"]
    assert cfg.train.streams == "paired"  # a seed pairs the arms


def test_a_study_seed_that_is_a_pilot_seed_is_refused():
    study = copy.deepcopy(DEFAULT)
    study["seeds"] = [DEFAULT["pilot_seeds"][0], 7]
    with pytest.raises(ConfigError, match=r"seeds \[0\] are also pilot_seeds"):
        validate_study(parse_study(study))


def test_video_study_is_valid_and_trains_every_video_variant():
    study = yaml.safe_load((Path(__file__).parents[1] / "config/video.yaml").read_text())
    validate_study(parse_study(study))
    expanded = runs(parse_study(study))
    assert {r.arm for r in expanded} == set(VARIANTS.names("video"))
    assert len(expanded) == 3 * 1 * 3


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
            r"G at feature-map resolution\(s\) \[64\].*\[4, 8, 16",
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
        validate_study(parse_study(study))


def test_paper_study_is_valid_without_its_data():
    paper = yaml.safe_load((Path(__file__).parents[1] / "config/paper.yaml").read_text())
    validate_study(parse_study(paper))
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
        validate_study(parse_study(study))
