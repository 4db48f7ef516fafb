"""Every registered variant through the same checks: image variants on every image backbone
and size, video variants on the video backbone (clips of FRAMES frames), variants whose blocks
condition on class labels on every class-conditional backbone, with CLASSES classes.

A new variant file is tested here without editing this file.
"""

import pytest
import torch
from torch import nn

from sagan.config import ModelConfig
from sagan.errors import ConfigError
from sagan.models import BACKBONES, build_models, build_variant
from sagan.models.spec import run_block, takes_labels
from sagan.registry import VARIANTS

VARIANT_NAMES = VARIANTS.names()
VIDEO = set(VARIANTS.names("video"))
LABELLED = {name for name in VARIANT_NAMES if build_variant(name).labels}
SIZES = [32, 64]
FRAMES = 4
CLASSES = 3


def conditional(backbone: str) -> bool:
    try:
        BACKBONES.build(backbone, {"image_size": 32, "num_classes": CLASSES})
    except ConfigError:
        return False
    return True


CONDITIONAL = [b for b in BACKBONES.names("image") if conditional(b)]


def backbones(name):
    """Video variants pin their own; label-conditioned ones need a conditional backbone."""
    if name in VIDEO:
        return ["video"]
    return CONDITIONAL if name in LABELLED else BACKBONES.names("image")


# (variant, backbone, size)
CASES = [
    (name, backbone, size)
    for name in VARIANT_NAMES
    for backbone in backbones(name)
    for size in SIZES
]


def labels(name, batch=2):
    """Class ids for a label-conditioned variant's models and blocks; None for the others."""
    return torch.arange(batch) % CLASSES if name in LABELLED else None


def models(name, backbone=None, size=32, seed=0):
    torch.manual_seed(seed)
    labelled = name in LABELLED
    model = ModelConfig(
        backbone=backbone or backbones(name)[0], width=4, z_dim=8, conditional=labelled
    )
    frames = FRAMES if name in VIDEO else 0
    classes = CLASSES if labelled else 0
    return build_models(
        model, name, {}, image_size=size, channels=3, num_classes=classes, frames=frames
    )


def block_input(name, channels=16):
    """A feature map a block of ``name`` takes: (2, C, 8, 8), or (2, C, FRAMES, 8, 8)."""
    return torch.randn(2, channels, *((FRAMES,) if name in VIDEO else ()), 8, 8)


def slot_blocks(name, channels=16, seed=0):
    """Every block the variant places (G and D), built at ``channels``."""
    torch.manual_seed(seed)
    spec = build_variant(name)
    classes = (CLASSES,) if spec.labels else ()
    return [make(channels, *classes) for make in [*spec.g_slots.values(), *spec.d_slots.values()]]


def set_gammas(module: nn.Module, value: float) -> None:
    with torch.no_grad():
        for pname, p in module.named_parameters():
            if pname.endswith("gamma"):
                p.fill_(value)


@pytest.mark.parametrize(("name", "backbone", "size"), CASES)
def test_shapes_and_finite_gradients_for_every_parameter(name, backbone, size):
    G, D = models(name, backbone, size)
    set_gammas(G, 0.5)  # at gamma = 0 the attention parameters get exactly zero gradient
    set_gammas(D, 0.5)
    y = labels(name)
    x = G(torch.randn(2, G.z_dim), y)
    clip = (FRAMES,) if name in VIDEO else ()
    assert x.shape == (2, 3, *clip, size, size) and x.abs().max() <= 1
    logits = D(x, y)
    assert logits.shape == (2,)
    logits.mean().backward()
    for net, model in (("G", G), ("D", D)):
        for pname, p in model.named_parameters():
            assert p.grad is not None, f"{net}.{pname} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{net}.{pname}"


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_deterministic_under_a_seed(name):
    z, y = torch.randn(2, 8), labels(name)
    (g1, _), (g2, _), (g3, _) = models(name, seed=0), models(name, seed=0), models(name, seed=1)
    assert torch.equal(g1(z, y), g2(z, y))
    assert not torch.equal(g1(z, y), g3(z, y))


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_every_block_is_the_identity_at_gamma_zero_and_live_otherwise(name):
    x, y = block_input(name), labels(name)
    for blk in slot_blocks(name):
        assert torch.equal(run_block(blk, x, y), x), type(blk).__name__
        set_gammas(blk, 0.5)
        out = run_block(blk, x, y)
        assert out.shape == x.shape and not torch.allclose(out, x), type(blk).__name__


def test_variants_place_blocks_where_they_say():
    assert build_variant("dcgan").g_slots == {}
    assert set(build_variant("multiscale").g_slots) == {8, 16}
    topk = build_variant("topk").g_slots[16](32)
    assert topk.impl == "topk" and topk.keys_kept(256) == 32
    official = build_variant("sagan", {"form": "official"}).d_slots[16](32)
    assert official.out is not None
    cbam = build_variant("se_spatial", {"channel": "cbam", "order": "spatial_first"})
    first, second = cbam.g_slots[16](32)
    assert type(first).__name__ == "SelfAttention2d" and type(second).__name__ == "CBAM"


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("multiscale", {"g_resolutions": [16]}, "two or more distinct g_resolutions"),
        ("se_spatial", {"channel": "eca"}, "channel must be one of"),
        ("se_spatial", {"order": "both"}, "order must be one of"),
    ],
)
def test_bad_variant_options_say_what_is_allowed(name, options, message):
    from sagan.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        build_variant(name, options)


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_attention_rows_sum_to_one_in_every_block_that_attends(name):
    x = block_input(name)
    queries = torch.tensor([0, 27, 63])
    # image blocks may nest it (SE + spatial); a video block reads out maps of its own
    inside = (lambda blk: [blk]) if name in VIDEO else (lambda blk: blk.modules())
    attending = [
        m for blk in slot_blocks(name) for m in inside(blk) if hasattr(m, "attention_maps")
    ]
    if not attending:
        pytest.skip(f"{name} places no spatial attention")
    for m in attending:
        y = (labels(name),) if takes_labels(m) else ()
        maps = m.attention_maps(x, queries, *y)  # (B, Q, h, w), video (B, Q, t, h, w)
        assert maps.shape[:2] == (2, 3) and (maps >= 0).all()
        torch.testing.assert_close(maps.flatten(2).sum(dim=2), torch.ones(2, 3))
