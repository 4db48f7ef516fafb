"""The profile plan's arithmetic and defaults by hand: the sweep's attention side (image side
floor-divided by each divisor) and batch, the profiled batch (the study's, else 64) in every
precision, the documented defaults, the baseline it falls back to, and the errors that name a
bad key."""

import pytest

from sagan.cost.plan import (
    check_profile,
    profile_baseline,
    profile_settings,
    profile_specs,
    scaling_specs,
    scaling_variants,
)
from sagan.errors import ConfigError

PLAN = {
    "study": "plan",
    "variants": {
        "base": {"variant": "dcgan"},
        "attn": {"variant": "sagan", **{"g_resolutions": [8]}},
    },
    "model": {"width": 4, "z_dim": 8},
}


def test_profile_settings_fill_the_documented_defaults():
    s = profile_settings(PLAN)
    assert (s["device"], s["precisions"], s["repeats"], s["warmup"], s["memory"]) == (
        "cpu",
        ["fp32"],
        5,
        2,
        True,
    )
    assert s["baseline"] == "base"  # the first arm
    scaling = s["scaling"]
    assert (scaling["resolutions"], scaling["divisors"], scaling["batch"]) == (
        [32, 64, 128],
        [2, 4],
        8,
    )
    assert (scaling["variant"], scaling["baseline"]) == ("sagan", "dcgan")  # registered names
    mine = profile_settings({**PLAN, "profile": {"repeats": 9, "scaling": {"batch": 3}}})
    assert mine["repeats"] == 9 and mine["warmup"] == 2
    assert mine["scaling"]["batch"] == 3 and mine["scaling"]["divisors"] == [2, 4]


def test_the_sweep_puts_attention_at_side_floor_divided_and_its_batch():
    study = {**PLAN, "profile": {"scaling": {"divisors": [3, 4, 5], "batch": 6}}}
    specs = scaling_specs(study, 48, channels=1)
    assert [s.label for s in specs] == [
        "dcgan@48",
        "sagan@48:16x16",
        "sagan@48:12x12",
        "sagan@48:9x9",
    ]
    assert [s.variant_options for s in specs[1:]] == [
        {"g_resolutions": [side], "d_resolutions": [side]} for side in (16, 12, 9)
    ]
    assert {(s.batch, s.resolution, s.channels, s.model.width) for s in specs} == {(6, 48, 1, 4)}


def test_profile_specs_take_the_studys_batch_or_64_in_every_precision():
    study = {**PLAN, "train": {"batch_size": 12}, "profile": {"precisions": ["fp32", "bf16"]}}
    specs = profile_specs(study, 24, 1, frames=4)
    assert [(s.label, s.precision) for s in specs] == [
        ("base", "fp32"), ("attn", "fp32"), ("base@bf16", "bf16"), ("attn@bf16", "bf16"),
    ]  # fmt: skip
    assert {(s.batch, s.resolution, s.channels, s.frames) for s in specs} == {(12, 24, 1, 4)}
    assert specs[1].variant == "sagan" and specs[1].variant_options == {"g_resolutions": [8]}
    assert [s.batch for s in profile_specs(PLAN, 24, 1, variants=["attn"])] == [64]


def test_the_baseline_is_the_named_one_else_the_first_without_attention():
    study = {**PLAN, "variants": {"attn": PLAN["variants"]["attn"], **PLAN["variants"]}}
    study["variants"]["more"] = {"variant": "sagan", "d_resolutions": [8]}
    assert profile_baseline(study, ["attn", "base"]) == "attn"  # the first arm, present
    assert profile_baseline(study, ["more", "base"]) == "base"  # no attention
    assert profile_baseline(study, ["more"]) == "more"  # none without: the first
    assert scaling_variants({"variant": "a"}) == ["a"] and scaling_variants({}) == [None]
    assert scaling_variants({"variant": ("a", "b")}) == ["a", "b"]


@pytest.mark.parametrize(
    "profile, message",
    [
        ({"precisions": ["fp16"]}, "fp16, which needs a GPU, but profile.device is 'cpu'"),
        ({"baseline": "nope"}, r"profile.baseline 'nope' is not one of the study's arms \['base'"),
        ({"scaling": {"variant": "nope"}}, "profile.scaling.variant 'nope' is not a registered"),
        (
            {"scaling": {"variant": "dcgan"}},
            "variant and profile.scaling.baseline are both 'dcgan'",
        ),
    ],
)
def test_a_bad_profile_section_names_its_key(profile, message):
    with pytest.raises(ConfigError, match=message):
        check_profile({**PLAN, "profile": profile})
    check_profile({**PLAN, "profile": {"precisions": ["fp16"], "device": "cuda:0"}})


def test_a_study_with_no_image_baseline_is_told_to_name_one(monkeypatch):
    import sagan.cost.plan as plan

    monkeypatch.setattr(plan, "_scaling_variants", lambda study: {"variant": "sagan"})
    with pytest.raises(ConfigError, match=r"profile.scaling.baseline is not set .* \(dcgan"):
        check_profile(PLAN)
