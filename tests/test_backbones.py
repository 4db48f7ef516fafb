"""Backbones: shapes and attention slots for every registered one; the resnet backbone's
spectral norm, class conditioning (conditional BN, projection D) and config errors."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from sagan.config import ModelConfig
from sagan.errors import ConfigError
from sagan.models import BACKBONES, build_backbone, build_models
from sagan.models.resnet import ResNet
from sagan.nn.attention import SelfAttention2d
from sagan.nn.conditional_bn import ConditionalBatchNorm2d

SIZES = [32, 64, 128]


def backbone(name="resnet", size=32, num_classes=0, seed=0):
    torch.manual_seed(seed)
    model = ModelConfig(backbone=name, width=4, z_dim=8, conditional=num_classes > 0)
    return build_backbone(model, image_size=size, channels=3, num_classes=num_classes)


def sagan_models(g_res=(16,), d_res=(16,), size=32):
    torch.manual_seed(0)
    model = ModelConfig(backbone="resnet", width=4, z_dim=8)
    options = {"g_resolutions": list(g_res), "d_resolutions": list(d_res)}
    return build_models(model, "sagan", options, image_size=size, channels=3)


def conditional(num_classes=3, size=32):
    """Conditional G and D in eval mode: spectral norm's power iteration then leaves the
    weights alone, so two calls differ only through y."""
    b = backbone(size=size, num_classes=num_classes)
    return b.generator({}).eval(), b.discriminator({}).eval()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", BACKBONES.names("image"))
def test_output_shapes_and_slot_resolutions(name, size):
    b = backbone(name, size)
    slots = b.slot_channels()
    assert sorted(slots["g"]) == [r for r in (4, 8, 16, 32, 64, 128) if r <= size]
    assert sorted(slots["d"]) == [r for r in (4, 8, 16, 32, 64) if r < size]
    G, D = b.generator({}), b.discriminator({})
    x = G(torch.randn(2, G.z_dim))
    assert x.shape == (2, 3, size, size) and x.abs().max() <= 1
    assert D(x).shape == (2,)


def test_resnet_channels_follow_the_documented_formula():
    slots = ResNet(image_size=64, width=4).slot_channels()  # c(r) = width * min(8, S // r)
    assert slots["g"] == {4: 32, 8: 32, 16: 16, 32: 8, 64: 4}
    assert slots["d"] == {4: 32, 8: 32, 16: 16, 32: 8}


def test_resnet_256_px_builds_and_runs():
    b = backbone(size=256)
    assert sorted(b.slot_channels()["g"]) == [4, 8, 16, 32, 64, 128, 256]
    G, D = b.generator({}), b.discriminator({})
    G.eval()  # batch 1: use running statistics
    with torch.no_grad():
        x = G(torch.randn(1, G.z_dim))
        assert x.shape == (1, 3, 256, 256) and D(x).shape == (1,)


def test_attention_in_slots_sees_its_resolution_and_every_parameter_gets_a_gradient():
    G, D = sagan_models()
    seen = []
    for net in (G, D):
        blocks = [m for m in net.modules() if isinstance(m, SelfAttention2d)]
        assert len(blocks) == 1
        blocks[0].register_forward_hook(lambda m, inp, out: seen.append(tuple(inp[0].shape)))
        with torch.no_grad():
            blocks[0].gamma.fill_(0.5)  # at gamma = 0 q, k, v get exactly zero gradient
    D(G(torch.randn(2, G.z_dim))).mean().backward()
    assert seen == [(2, 8, 16, 16), (2, 8, 16, 16)]  # c(16) = 4 * 32 // 16 in G and D
    for net, model in (("G", G), ("D", D)):
        for pname, p in model.named_parameters():
            assert p.grad is not None, f"{net}.{pname} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{net}.{pname}"
            assert p.grad.abs().sum() > 0, f"{net}.{pname} got a zero gradient"


def test_every_conv_and_linear_is_spectrally_normalised_attention_included():
    G, D = sagan_models()
    _, D_cond = conditional()
    for model in (G, D, D_cond):
        layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        assert len(layers) > 5
        assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert parametrize.is_parametrized(D_cond.embed, "weight")  # the projection, as SNGAN


def test_a_slot_the_backbone_lacks_names_the_available_resolutions():
    with pytest.raises(ConfigError, match=r"D at feature-map resolution\(s\) \[32\].*\[4, 8, 16\]"):
        sagan_models(g_res=(32,), d_res=(32,))  # G has a 32x32 map, D does not
    with pytest.raises(ConfigError, match=r"G at .*\[2\].*\[4, 8, 16, 32\]"):
        sagan_models(g_res=(2,), d_res=())


@pytest.mark.parametrize("size", [0, 8, 24, 48, 100])
def test_an_invalid_image_size_is_a_config_error_naming_the_allowed_ones(size):
    with pytest.raises(ConfigError, match=rf"power-of-two image size >= 16 .*16, 32.*got {size}"):
        backbone(size=size)


def test_conditional_bn_starts_as_batch_norm_and_applies_the_class_affine():
    bn = ConditionalBatchNorm2d(4, num_classes=3)
    x, y = torch.randn(6, 4, 5, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    plain = nn.BatchNorm2d(4, affine=False)(x)
    torch.testing.assert_close(bn(x, y), plain)
    with torch.no_grad():
        bn.gain.weight[1].fill_(2.0)
        bn.bias.weight[1].fill_(-1.0)
    out = bn(x, y)
    torch.testing.assert_close(out[y == 1], 2 * plain[y == 1] - 1)
    torch.testing.assert_close(out[y != 1], plain[y != 1])


def test_conditional_generator_depends_on_y():
    G, _ = conditional()
    z = torch.randn(2, G.z_dim)
    y0, y1 = torch.tensor([0, 0]), torch.tensor([1, 1])
    assert torch.equal(G(z, y0), G(z, y1))  # gains 1, biases 0 at init: classes agree
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm2d):
                m.gain.weight.normal_(1.0, 0.5)
                m.bias.weight.normal_(0.0, 0.5)
    assert not torch.allclose(G(z, y0), G(z, y1))


def test_projection_discriminator_uses_y():
    _, D = conditional()
    x = torch.randn(2, 3, 32, 32)
    y0, y1 = torch.tensor([0, 0]), torch.tensor([2, 2])
    diff = D(x, y1) - D(x, y0)
    h = torch.relu(D.body(x)).sum(dim=(2, 3))  # (B, C) pooled features
    torch.testing.assert_close(diff, ((D.embed(y1) - D.embed(y0)) * h).sum(1))
    assert diff.abs().min() > 0


def test_missing_or_extra_labels_raise():
    G, D = conditional()
    z, x, y = torch.randn(2, G.z_dim), torch.randn(2, 3, 32, 32), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="class-conditional"):
        G(z)
    with pytest.raises(ValueError, match="class-conditional"):
        D(x)
    with pytest.raises(ValueError, match=r"y must be \(B,\)"):
        D(x, y[:, None])  # (B, 1) would broadcast to a (B, B) projection
    G_u, D_u = sagan_models()
    with pytest.raises(ValueError, match="unconditional"):
        G_u(z, y)
    with pytest.raises(ValueError, match="unconditional"):
        D_u(x, y)
