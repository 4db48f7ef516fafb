"""The profile plan's arithmetic and defaults by hand: the sweep's attention side (image side
floor-divided by each divisor) and batch, the profiled batch (the study's, else 64) in every
precision, the documented defaults, the baseline it falls back to, and the errors that name a
bad key."""

import re

import pytest

from sagan.cost.plan import (
    check_profile,
    profile_baseline,
    profile_settings,
    profile_specs,
    scaling_specs,
)
from sagan.errors import ConfigError
from sagan.registry import VARIANTS
from sagan.study.model import parse_study

PLAN = {
    "study": "plan",
    "datasets": {"digits": {"resolution": 16, "heldout": 100}},
    "variants": {
        "base": {"variant": "dcgan"},
        "attn": {"variant": "sagan", **{"g_resolutions": [8]}},
    },
    "model": {"width": 4, "z_dim": 8},
}


def test_profile_settings_fill_the_documented_defaults():
    s = profile_settings(parse_study(PLAN))
    assert (s.device_for(), s.precisions, s.repeats, s.warmup, s.memory) == (
        "cpu",
        ("fp32",),
        25,
        2,
        True,
    )
    assert s.baseline == "base"  # the first arm
    scaling = s.scaling
    assert (scaling.resolutions, scaling.divisors, scaling.batch) == ((32, 64, 128), (2, 4), 8)
    assert (scaling.variants, scaling.baseline) == (("sagan",), "dcgan")  # registered names
    mine = profile_settings(
        parse_study({**PLAN, "profile": {"repeats": 9, "scaling": {"batch": 3}}})
    )
    assert mine.repeats == 9 and mine.warmup == 2
    assert mine.scaling.batch == 3 and mine.scaling.divisors == (2, 4)
    listed = {"scaling": {"variant": ["sagan", "attn"], "resolutions": [16, 32]}}
    swept = profile_settings(parse_study({**PLAN, "profile": listed})).scaling
    assert (swept.variants, swept.resolutions) == (("sagan", "attn"), (16, 32))
    assert parse_study(
        {**PLAN, "profile": {"scaling": {"variant": "a"}}}
    ).profile.scaling.variants == ("a",)


def test_the_sweep_puts_attention_at_side_floor_divided_and_its_batch():
    study = {**PLAN, "profile": {"scaling": {"divisors": [3, 4, 5], "batch": 6}}}
    specs = scaling_specs(parse_study(study), 48, channels=1)
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
    assert [s.variant for s in specs] == ["dcgan", "sagan", "sagan", "sagan"]
    assert scaling_specs(parse_study(study), 48)[0].channels == 3  # RGB unless told
    with pytest.raises(ConfigError, match="unknown key.* 'widht' in model;"):
        scaling_specs(parse_study({**study, "model": {"widht": 4}}), 48)


def test_profile_specs_take_the_studys_batch_or_64_in_every_precision():
    study = {**PLAN, "train": {"batch_size": 12}, "profile": {"precisions": ["fp32", "bf16"]}}
    specs = profile_specs(parse_study(study), 24, 1, frames=4)
    assert [(s.label, s.precision) for s in specs] == [
        ("base", "fp32"), ("attn", "fp32"), ("base@bf16", "bf16"), ("attn@bf16", "bf16"),
    ]  # fmt: skip
    assert {(s.batch, s.resolution, s.channels, s.frames) for s in specs} == {(12, 24, 1, 4)}
    assert specs[1].variant == "sagan" and specs[1].variant_options == {"g_resolutions": [8]}
    assert [s.batch for s in profile_specs(parse_study(PLAN), 24, 1, variants=["attn"])] == [64]
    merged = {**PLAN, "variants": {"wide": {"variant": "dcgan", "model": {"width": 6}}}}
    (wide,) = profile_specs(parse_study(merged), 24, 1)
    assert (wide.arm, wide.frames, wide.model.width, wide.model.z_dim) == ("wide", 0, 6, 8)
    assert (specs[0].arm, specs[0].model.width, specs[0].plugins) == ("base", 4, ())
    with pytest.raises(ConfigError, match="unknown key.* 'widht' in model;"):
        profile_specs(parse_study({**PLAN, "model": {"widht": 4}}), 24, 1)


def test_the_baseline_is_the_named_one_else_the_first_without_attention():
    study = {**PLAN, "variants": {"attn": PLAN["variants"]["attn"], **PLAN["variants"]}}
    study["variants"]["more"] = {"variant": "sagan", "d_resolutions": [8]}
    assert (
        profile_baseline(parse_study(study), ["attn", "base"]) == "attn"
    )  # the first arm, present
    assert profile_baseline(parse_study(study), ["more", "base"]) == "base"  # no attention
    assert profile_baseline(parse_study(study), ["more"]) == "more"  # none without: the first
    # by each arm's own options: sagan with no sides places none; G only is attention
    study["variants"]["none"] = {"variant": "sagan", "g_resolutions": [], "d_resolutions": []}
    study["variants"]["g_only"] = {"variant": "sagan", "g_resolutions": [8], "d_resolutions": []}
    assert profile_baseline(parse_study(study), ["g_only", "none", "base"]) == "none"


@pytest.mark.parametrize(
    "profile, message",
    [
        ({"precisions": ["fp16"]}, "fp16, which needs a GPU, but profile.device is 'cpu'"),
        ({"baseline": "nope"}, r"profile.baseline 'nope' is not one of the study's arms \['base'"),
        ({"scaling": {"variant": "nope"}}, "profile.scaling.variant 'nope' is not a registered"),
        (
            {"scaling": {"variant": "dcgan"}},
            "variant and profile.scaling.baseline are both 'dcgan': the sweep compares "
            "attention variants with a baseline without it; set variant to ones that place "
            "attention blocks",
        ),
    ],
)
def test_a_bad_profile_section_names_its_key(profile, message):
    with pytest.raises(ConfigError, match=message):
        check_profile(parse_study({**PLAN, "profile": profile}))
    check_profile(parse_study({**PLAN, "profile": {"precisions": ["fp16"], "device": "cuda:0"}}))


def test_a_study_with_no_image_baseline_is_told_to_name_one(monkeypatch):
    import sagan.cost.plan as plan

    monkeypatch.setattr(plan, "_scaling_variants", lambda study: {"variant": "sagan"})
    names = re.escape(", ".join(VARIANTS.names("image")))  # image variants, no video ones
    with pytest.raises(ConfigError, match=rf"profile.scaling.baseline is not set .* \({names}\)"):
        check_profile(parse_study(PLAN))


PLAIN_PLUGIN = """
from sagan.models import VariantSpec
from sagan.registry import register_variant


@register_variant("plain_plugin")
def plain_plugin() -> VariantSpec:
    return VariantSpec()
"""


def test_the_sweep_takes_its_variant_and_baseline_from_the_first_arms_that_serve(install_plugin):
    def sweep(**variants):
        return profile_settings(parse_study({**PLAN, "variants": variants})).scaling

    def pick(scaling):
        return (*scaling.variants, scaling.baseline)

    video = {"variant": "video_baseline"}
    # not registered, a video variant, a bad option, blocks needing class ids: passed over
    passed = {"x": {"variant": "nope"}, "v": video, "bad": {"variant": "sagan", "impl": "?"}}
    passed["lab"] = {"variant": "label_attention"}
    assert pick(sweep(**passed, t={"variant": "topk"}, b={"variant": "dcgan"})) == ("topk", "dcgan")
    # by the arm's options: sagan with no sides is a baseline; the first attention arm wins
    none = {"variant": "sagan", "g_resolutions": [], "d_resolutions": []}
    assert pick(sweep(n=none, t={"variant": "topk"})) == ("topk", "sagan")
    assert pick(sweep(a={"variant": "sagan"}, t={"variant": "topk"})) == ("sagan", "dcgan")
    g_only = {"variant": "sagan", "g_resolutions": [8], "d_resolutions": []}
    assert pick(sweep(g=g_only, b={"variant": "dcgan"})) == ("sagan", "dcgan")
    assert sweep(m={"variant": "multiscale"}).variants != ("multiscale",)  # needs two sides
    module = install_plugin("plain_plugin_mod", PLAIN_PLUGIN, "plain_plugin")
    study = {**PLAN, "plugins": [module], "variants": {"p": {"variant": "plain_plugin"}}}
    study["variants"]["a"] = {"variant": "sagan"}
    assert pick(profile_settings(parse_study(study)).scaling) == ("sagan", "plain_plugin")
    assert [s.plugins for s in profile_specs(parse_study(study), 16, 3)] == [(module,), (module,)]
