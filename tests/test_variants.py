"""Every registered image variant through the same checks (a new variant is tested for free)."""

import pytest
import torch

from sagan.config import ModelConfig
from sagan.models import build_models
from sagan.registry import VARIANTS

MODEL = ModelConfig(width=8, z_dim=16)


def variant_options(name: str) -> dict:
    """Place attention where a 16 px model has feature maps (defaults target 32 px)."""
    import inspect

    params = inspect.signature(VARIANTS.get(name).builder).parameters
    return {k: [8] for k in ("g_resolutions", "d_resolutions") if k in params}


def models(name, seed=0):
    torch.manual_seed(seed)
    return build_models(MODEL, name, variant_options(name), image_size=16, channels=1)


@pytest.mark.parametrize("name", VARIANTS.names("image"))
def test_shapes(name):
    G, D = models(name)
    x = G(torch.randn(4, MODEL.z_dim))
    assert x.shape == (4, 1, 16, 16)
    assert x.abs().max() <= 1
    assert D(x).shape == (4,)


@pytest.mark.parametrize("name", VARIANTS.names("image"))
def test_every_parameter_gets_a_finite_gradient(name):
    G, D = models(name)
    D(G(torch.randn(4, MODEL.z_dim))).mean().backward()
    for net, model in (("G", G), ("D", D)):
        for pname, p in model.named_parameters():
            assert p.grad is not None, f"{net}.{pname} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{net}.{pname}"


@pytest.mark.parametrize("name", VARIANTS.names("image"))
def test_deterministic_under_a_seed(name):
    z = torch.randn(2, MODEL.z_dim)
    (g1, _), (g2, _), (g3, _) = models(name, 0), models(name, 0), models(name, 1)
    assert torch.equal(g1(z), g2(z))
    assert not torch.equal(g1(z), g3(z))
