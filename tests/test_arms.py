"""Arms and sweeps: what a study's ``variants:`` expands into, and how a run is keyed."""

import copy
from dataclasses import replace

import pytest
import yaml

from sagan.arms import expand_arms
from sagan.cli import main
from sagan.config import to_dict
from sagan.errors import ConfigError
from sagan.layout import run_key
from sagan.models import build_variant
from sagan.registry import VARIANTS
from sagan.study import (
    Run,
    data_key,
    derived_paths,
    run_config,
    run_dir,
    runs,
    validate_study,
)
from sagan.study.model import parse_study
from tests.test_workflow import TINY

EXAMPLE = {  # the ablation issue's example, as a study would write it
    "dcgan": {},
    "sagan": {"g_resolutions": [8], "d_resolutions": [8]},
    "sagan-late": {"variant": "sagan", "g_resolutions": [16], "d_resolutions": [4]},
    "sagan-place": {
        "variant": "sagan",
        "d_resolutions": [8],
        "sweep": {"g_resolutions": [[4], [8], [16]]},
    },
    "sagan-wgan": {
        "variant": "sagan",
        "g_resolutions": [8],
        "d_resolutions": [8],
        "train": {"loss": "wgan-gp", "n_dis": 5},
    },
}


def study_with(variants: dict) -> dict:
    study = copy.deepcopy(TINY)
    study["datasets"] = {"digits": TINY["datasets"]["digits"]}
    study["variants"] = copy.deepcopy(variants)
    return study


def test_the_example_expands_into_named_arms_of_registered_variants():
    arms = expand_arms(EXAMPLE)
    assert list(arms) == [
        "dcgan",
        "sagan",
        "sagan-late",
        "sagan-place.g4",
        "sagan-place.g8",
        "sagan-place.g16",
        "sagan-wgan",
    ]
    assert {a.variant for a in arms.values()} == {"dcgan", "sagan"}
    g8 = arms["sagan-place.g8"]
    assert g8.options == {"d_resolutions": [8], "g_resolutions": [8]} and g8.sweep == "sagan-place"
    assert g8.point == {"g_resolutions": [8]}
    assert arms["sagan-wgan"].train == {"loss": "wgan-gp", "n_dis": 5}
    assert arms["sagan-wgan"].options == {"g_resolutions": [8], "d_resolutions": [8]}


def test_a_study_with_two_arms_of_one_variant_and_a_sweep_validates_into_one_run_each():
    study = study_with(EXAMPLE)
    validate_study(parse_study(study))
    planned = runs(parse_study(study))
    assert len(planned) == 7 * len(study["sizes"]) * len(study["seeds"])
    folders = {run_dir(parse_study(study), r) for r in planned}
    assert len(folders) == len(planned)  # no two arms share a run folder
    wgan = run_config(parse_study(study), Run("digits", "sagan-wgan", 100, 0))
    assert (wgan.variant, wgan.arm, wgan.train.loss, wgan.train.n_dis) == (
        "sagan",
        "sagan-wgan",
        "wgan-gp",
        5,
    )


@pytest.mark.parametrize("variant", VARIANTS.names("image"))
def test_every_image_variant_sweeps_a_train_override_into_distinct_runs(variant):
    study = study_with({variant: {"sweep": {"train.lr_g": [0.0001, 0.0002]}}})
    if variant != "dcgan":  # where a 16 px model has maps (multi-scale needs two)
        study["variants"][variant] |= {"g_resolutions": [4, 8], "d_resolutions": [8, 4]}
    if build_variant(variant).labels:  # its blocks need class ids: a conditional arm
        study["variants"][variant]["model"] = {"conditional": True, "backbone": "resnet"}
    validate_study(parse_study(study))
    arms = expand_arms(study["variants"])
    assert list(arms) == [f"{variant}.lg0.0001", f"{variant}.lg0.0002"]
    a, b = (run_dir(parse_study(study), Run("digits", arm, 100, 0)) for arm in arms)
    assert a != b and f"/{variant}.lg0.0001-" in a


def test_what_changes_training_changes_the_run_key_and_nothing_else_does():
    study = study_with({"sagan": EXAMPLE["sagan"]})
    cfg = run_config(parse_study(study), Run("digits", "sagan", 100, 0))
    key = run_key(to_dict(cfg))
    trained = [
        replace(cfg, train=replace(cfg.train, lr_g=0.0002)),
        replace(cfg, model=replace(cfg.model, width=16)),
        replace(cfg, variant_options={**cfg.variant_options, "key_ratio": 4}),
        replace(cfg, variant_source="0123abcd"),
    ]
    assert all(run_key(to_dict(c)) != key for c in trained)
    same = [
        replace(cfg, train=replace(cfg.train, iterations=999)),
        replace(cfg, eval=replace(cfg.eval, num_samples=7)),
        replace(cfg, study="other", arm="renamed"),
    ]
    assert all(run_key(to_dict(c)) == key for c in same)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("impl", "bogus", r"variants\.bad: impl must be one of 'auto', 'naive'"),
        ("form", "offical", r"variants\.bad: form must be one of 'paper', 'official'"),
        ("g_resolutions", "eight", r"variants\.bad: g_resolutions must be a list"),
        ("key_ratio", 0, r"variants\.bad: key_ratio must be an int >= 1"),
    ],
)
def test_a_bad_option_value_fails_validation_in_one_line_naming_the_arm(option, value, message):
    study = study_with({"bad": {"variant": "sagan", "g_resolutions": [8], option: value}})
    with pytest.raises(ConfigError, match=message) as err:
        validate_study(parse_study(study))
    assert "\n" not in str(err.value)


def test_top_k_below_one_fails_validation_naming_the_arm():
    study = study_with({"sparse": {"variant": "topk", "g_resolutions": [8], "top_k": -3}})
    with pytest.raises(ConfigError, match=r"variants\.sparse: top_k must be"):
        validate_study(parse_study(study))


def test_named_entries_share_prepared_data_only_where_their_settings_agree():
    study = study_with({"dcgan": {}})
    study["datasets"] = {
        "digits-a": {"dataset": "digits", "resolution": 16, "heldout": 200},
        "digits-b": {"dataset": "digits", "resolution": 16, "heldout": 300},
        "digits-c": {"dataset": "digits", "resolution": 16, "heldout": 300},
    }
    validate_study(parse_study(study))
    a, b, c = (data_key(parse_study(study), d) for d in ("digits-a", "digits-b", "digits-c"))
    assert a != b and b == c and a.startswith("digits-r16-")
    paths = derived_paths(parse_study(study), "digits-b")
    assert paths == derived_paths(
        parse_study(study), "digits-c"
    )  # one extractor and reference, too
    cfg = run_config(parse_study(study), Run("digits-b", "dcgan", 100, 0))
    assert (cfg.data.dataset, cfg.data.source) == ("digits-b", "digits")


def test_the_arms_command_prints_every_expanded_arm_with_its_options(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study_with(EXAMPLE)))
    assert main(["arms", str(path)]) in (0, None)
    printed = yaml.safe_load(capsys.readouterr().out)
    assert list(printed) == list(expand_arms(EXAMPLE))
    assert printed["sagan-place.g16"]["options"]["g_resolutions"] == [16]
    assert printed["sagan-place.g16"]["sweep"] == "sagan-place"
