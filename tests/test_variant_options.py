"""Variant options: key_ratio sets the query/key width (C // key_ratio, the paper's C/8 by
default) and the MACs it costs; a bad option value fails when the variant is built, with one
line naming the option and what it allows."""

import pytest
import torch
from torch import nn

from sagan.config import ModelConfig
from sagan.cost.flops import count_macs, model_costs
from sagan.models import build_backbone, build_models, build_variant
from sagan.nn.attention import FORMS, IMPLS, SelfAttention2d
from sagan.nn.video_attention import FactorizedAttention3d, SelfAttention3d
from sagan.registry import VARIANTS

ATTENTION_VARIANTS = ["sagan", "topk", "multiscale", "se_spatial", "video3d", "video_factorized"]
MODEL = ModelConfig(backbone="dcgan", width=8, z_dim=8)


def attentions(block: nn.Module) -> list[SelfAttention2d]:
    return [m for m in block.modules() if isinstance(m, SelfAttention2d)]


def placed_blocks(name: str, options: dict, channels: int) -> list[nn.Module]:
    spec = build_variant(name, options)
    return [make(channels) for make in [*spec.g_slots.values(), *spec.d_slots.values()]]


def qk_macs_difference(channels: int, tokens: int, ck: int, ck_ref: int) -> int:
    """MACs that a query/key width ck adds over ck_ref at one paper-form block: the q and k
    1x1 convs (N x C x Ck each) and Q K^T (N x N x Ck); the value path does not change."""
    return (2 * tokens * channels + tokens * tokens) * (ck - ck_ref)


@pytest.mark.parametrize(("key_ratio", "width"), [(8, 8), (4, 16), (1, 64), (128, 1)])
def test_key_ratio_sets_the_query_and_key_width_of_the_block(key_ratio, width):
    blk = SelfAttention2d(64, key_ratio=key_ratio)
    assert blk.query.weight.shape == blk.key.weight.shape == (width, 64, 1, 1)
    assert blk.value.weight.shape == (64, 64, 1, 1)  # the value path keeps C
    for video in (
        SelfAttention3d(64, key_ratio=key_ratio),
        FactorizedAttention3d(64, key_ratio=key_ratio),
    ):
        assert {m.query.out_channels for m in attentions(video)} == {width}


def test_the_default_is_the_papers_c_over_8_with_todays_parameters():
    default, explicit = SelfAttention2d(64), SelfAttention2d(64, key_channels=8)
    assert default.query.out_channels == 8
    shapes = {k: v.shape for k, v in explicit.state_dict().items()}
    assert {k: v.shape for k, v in default.state_dict().items()} == shapes


@pytest.mark.parametrize("name", ATTENTION_VARIANTS)
def test_every_attention_variant_threads_key_ratio_to_its_blocks(name):
    for options, width in (({}, 8), ({"key_ratio": 8}, 8), ({"key_ratio": 4}, 16)):
        blocks = placed_blocks(name, options, 64)
        found = [a for blk in blocks for a in attentions(blk)]
        assert found, f"{name} places no SelfAttention2d"
        assert {(a.query.out_channels, a.key.out_channels) for a in found} == {(width, width)}


@pytest.mark.parametrize("impl", ["naive", "sdpa"])
def test_key_ratio_costs_the_q_k_convs_and_the_qk_matmul(impl):
    x = torch.randn(1, 64, 8, 8)  # C = 64, N = 64
    macs = {r: count_macs(SelfAttention2d(64, impl=impl, key_ratio=r), (x,)).macs for r in (8, 4)}
    # Ck 8 -> 16: 2 * 64 * 64 * 8 (q, k convs) + 64 * 64 * 8 (Q K^T) = 98,304
    assert macs[4] - macs[8] == qk_macs_difference(64, 64, 16, 8) == 98_304


def test_key_ratio_costs_what_the_formula_says_in_a_built_g_and_d():
    options = {"g_resolutions": [16], "d_resolutions": [8]}
    widths = build_backbone(MODEL, image_size=32, channels=3).slot_channels()
    rows = {}
    for ratio in (8, 2):
        torch.manual_seed(0)
        G, D = build_models(
            MODEL, "sagan", options | {"key_ratio": ratio}, image_size=32, channels=3
        )
        rows[ratio] = model_costs(G, D, z_dim=8, resolution=32, channels=3)
    for net, side in (("g", 16), ("d", 8)):
        c = widths[net][side]
        expected = qk_macs_difference(c, side * side, max(1, c // 2), max(1, c // 8))
        assert expected > 0
        assert rows[2][f"macs_{net}"] - rows[8][f"macs_{net}"] == expected, net
        assert rows[2][f"attention_macs_{net}"] - rows[8][f"attention_macs_{net}"] == expected


def builder(name):
    return VARIANTS.get(name).builder


KEY_RATIOS = [0, -1, 2.5, "8", True, None]
BAD = (
    [(name, "key_ratio", value) for name in ATTENTION_VARIANTS for value in KEY_RATIOS]
    + [(name, "impl", "bogus") for name in ATTENTION_VARIANTS if name != "topk"]
    + [("sagan", "form", "offical")]
    + [("topk", "top_k", value) for value in (-3, 0, 1.5, 0.0, "half", True)]
    + [("topk", "chunk_size", 0)]
    + [
        (name, option, value)
        for name in ATTENTION_VARIANTS
        for option, value in (
            ("g_resolutions", "eight"),
            ("d_resolutions", ["eight"]),
            ("g_resolutions", 8),
            ("d_resolutions", [12, 16]),
            ("g_resolutions", [0, 8]),
            ("d_resolutions", None),
        )
    ]
    + [("se_spatial", "channel", "eca"), ("se_spatial", "order", "both")]
    + [("se_spatial", "reduction", 0), ("multiscale", "g_resolutions", [16, 16])]
)


@pytest.mark.parametrize(("name", "option", "value"), BAD)
def test_a_bad_option_fails_when_the_variant_is_built_naming_the_option(name, option, value):
    with pytest.raises(ValueError, match=option) as err:
        builder(name)(**{option: value})  # the builder alone: no block, no model exists
    message = str(err.value)
    assert "\n" not in message and f"got {value!r}" in message, message


@pytest.mark.parametrize(
    ("name", "option", "value", "allowed"),
    [
        ("sagan", "impl", "bogus", IMPLS),
        ("video3d", "impl", "flash", IMPLS),
        ("sagan", "form", "offical", FORMS),
        ("se_spatial", "channel", "eca", ("se", "cbam")),
        ("se_spatial", "order", "both", ("channel_first", "spatial_first")),
    ],
)
def test_an_unknown_choice_lists_the_allowed_ones(name, option, value, allowed):
    with pytest.raises(ValueError, match=f"{option} must be one of") as err:
        builder(name)(**{option: value})
    assert all(repr(a) in str(err.value) for a in allowed), str(err.value)


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("top_k", -3, "an int >= 1 or a fraction in (0, 1]"),
        ("key_ratio", 0, "an int >= 1"),
        ("g_resolutions", 8, "write [8]"),
        ("d_resolutions", ["eight"], "power of two"),
    ],
)
def test_numeric_options_say_what_they_allow(option, value, hint):
    with pytest.raises(ValueError) as err:
        builder("topk")(**{option: value})
    assert hint in str(err.value)


def test_impl_topk_without_top_k_fails_at_build_time():
    with pytest.raises(ValueError, match="top_k is required with impl='topk'"):
        builder("sagan")(impl="topk")


@pytest.mark.parametrize("name", ATTENTION_VARIANTS)
def test_good_values_build(name):
    options = {"key_ratio": 2}
    if name == "multiscale":
        options |= {"g_resolutions": (8, 16), "d_resolutions": [16, 8]}
    spec = build_variant(name, options)
    assert spec.g_slots and spec.d_slots
