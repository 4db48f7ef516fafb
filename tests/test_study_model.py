"""The typed study (sagan.study.model): parsed once, its defaults stated once, the one merge
rule (arm over dataset entry over study), and one-line errors for a document of the wrong
shape."""

from __future__ import annotations

import pytest

from sagan.errors import ConfigError
from sagan.study import (
    Run,
    dataset_study,
    run_config,
    study_arms,
    validate_study,
)
from sagan.study.model import DEFAULT_EXTRACTOR_EPOCHS, ProfileSettings, parse_study

DOC = {
    "study": "typed",
    "datasets": {
        "digits": {"resolution": 16, "heldout": 100},
        "small": {
            "dataset": "digits",
            "resolution": 16,
            "heldout": 100,
            "sizes": [50],
            "model": {"width": 6},
            "train": {"iterations": 3, "lr_g": 0.5},
            "extractor": {"epochs": 2},
        },
    },
    "variants": {
        "dcgan": None,
        "wide": {"variant": "dcgan", "model": {"z_dim": 12}, "train": {"lr_g": 0.25}},
    },
    "sizes": [100, "full"],
    "seeds": [0, 1],
    "model": {"width": 4, "z_dim": 8},
    "train": {"iterations": 2, "batch_size": 8},
}


def test_a_document_becomes_typed_entries_arms_and_sections():
    study = parse_study(DOC)
    small = study.datasets["small"]
    assert (study.name, study.seeds, study.sizes) == ("typed", (0, 1), (100, "full"))
    assert (small.source, small.resolution, small.sizes, small.extractor_epochs) == (
        "digits",
        16,
        (50,),
        2,
    )
    assert study.datasets["digits"].source == "digits"  # its name, unless it says
    assert list(study.arms) == ["dcgan", "wide"] and study.arms["wide"].variant == "dcgan"
    assert study_arms(study) is study.arms  # expanded once, when parsed
    assert study.profile == ProfileSettings()  # every profile default from one class
    assert study.extractor_epochs == DEFAULT_EXTRACTOR_EPOCHS and study.batch_size == 8


def test_an_arm_goes_over_its_dataset_entry_over_the_study():
    study = parse_study(DOC)
    wide = study.arms["wide"]
    assert study.section("model") == {"width": 4, "z_dim": 8}
    assert study.section("model", "small") == {"width": 6, "z_dim": 8}
    assert study.section("model", "small", wide) == {"width": 6, "z_dim": 12}
    assert study.section("train", "small", wide)["lr_g"] == 0.25  # the arm's wins
    assert study.section("train", "small")["lr_g"] == 0.5
    assert study.section("evaluation", "small", wide) == {}  # an arm sets model and train only
    view = dataset_study(study, "small")
    assert (view.model, view.sizes) == ({"width": 6, "z_dim": 8}, (50,))
    assert study.model == {"width": 4, "z_dim": 8}  # the view is a copy
    cfg = run_config(study, Run("small", "wide", 50, 1))
    assert (cfg.model.width, cfg.model.z_dim, cfg.train.lr_g, cfg.train.iterations) == (
        6,
        12,
        0.25,
        3,
    )
    assert (cfg.train.seed, cfg.data.source, cfg.arm, cfg.variant) == (1, "digits", "wide", "dcgan")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"seeds": 3}, "seeds must be a non-empty list of integers, got 3"),
        ({"sizes": 100}, "sizes must be a list, got 100"),
        ({"sizes": [0]}, "sizes: 0 is not a positive integer or 'full'"),
        ({"datasets": ["digits"]}, "datasets must be a mapping of keys"),
        (
            {"datasets": {"digits": {"resolution": 16}}},
            "datasets.digits lacks required key 'heldout'",
        ),
        ({"variants": {}}, "a study needs datasets: and variants:"),
        ({"profile": {"repeat": 3}}, "profile: .*'repeat'"),
        ({"profile": {"scaling": {"batches": 3}}}, "profile: .*'batches'"),
        ({"train": {"seed": 1}}, "train.seed: a run's seed is set by the study's seeds"),
        ({"study": "../x"}, "study: '../x' is not a usable name"),
    ],
)
def test_a_document_of_the_wrong_shape_is_one_config_error(edit, message):
    with pytest.raises(ConfigError, match=message):
        parse_study(DOC | edit)


def test_the_cost_part_parses_but_a_whole_study_needs_seeds_and_sizes():
    part = {k: v for k, v in DOC.items() if k not in ("seeds", "sizes")}
    study = parse_study(part)  # what the profile job reads (sagan.cost)
    assert (study.seeds, study.sizes) == ((), ())
    with pytest.raises(ConfigError, match="seeds must be a non-empty list"):
        validate_study(study, force=True)
    with pytest.raises(ConfigError, match="sizes must list training-set sizes"):
        validate_study(parse_study(part | {"seeds": [0]}), force=True)
    validate_study(parse_study(DOC), force=True)
