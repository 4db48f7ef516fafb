"""sagan.memory_fit: a run's memory estimated on the meta device, and refused when it cannot fit."""

import pytest
import torch

from sagan.config import ModelConfig
from sagan.errors import ConfigError
from sagan.memory_fit import GIB, MemoryEstimate, check_fits, estimate_memory, meta_device
from sagan.models.backbone import build_models

SAGAN = {"g_resolutions": [8], "d_resolutions": [8]}


def test_the_estimate_counts_the_parameters_of_the_real_models():
    model = ModelConfig(width=8, z_dim=16)
    G, D = build_models(model, "sagan", SAGAN, image_size=16, channels=3)
    params = sum(p.numel() for p in [*G.parameters(), *D.parameters()])
    estimate = estimate_memory(model, "sagan", SAGAN, resolution=16, batch=4)
    assert estimate.parameters == 4 * 4 * params  # weight, gradient, Adam's two moments; fp32
    with_ema = estimate_memory(model, "sagan", SAGAN, resolution=16, batch=4, ema=True)
    assert with_ema.parameters - estimate.parameters == 4 * sum(p.numel() for p in G.parameters())


def test_activations_grow_linearly_with_the_batch_and_parameters_do_not():
    model = ModelConfig(width=8, z_dim=16)
    b4, b8, b12 = (estimate_memory(model, "dcgan", {}, resolution=16, batch=b) for b in (4, 8, 12))
    assert b4.parameters == b8.parameters == b12.parameters
    # per-sample tensors grow with the batch; spectral norm's normalised weights do not
    assert b12.activations - b8.activations == b8.activations - b4.activations > 0


def test_a_run_larger_than_the_device_is_refused_with_the_numbers():
    check_fits(MemoryEstimate(parameters=GIB, activations=GIB), "cpu", "here")  # fits
    huge = MemoryEstimate(parameters=10**6 * GIB, activations=GIB)
    with pytest.raises(ConfigError, match=r"here needs about 1000001\.0 GiB .* --force"):
        check_fits(huge, "cpu", "here")
    if not torch.cuda.is_available():  # a GPU this host lacks: nothing to check against
        check_fits(huge, "cuda", "here")


def test_meta_builds_leave_spectral_norm_as_it_was():
    power_method = torch.nn.utils.parametrizations._SpectralNorm._power_method
    with meta_device():
        pass
    assert torch.nn.utils.parametrizations._SpectralNorm._power_method is power_method
    # and a real model built afterwards still gets its power iterations
    layer = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(4, 4))
    assert torch.linalg.matrix_norm(layer.weight.detach(), 2).item() == pytest.approx(1.0, abs=0.05)
