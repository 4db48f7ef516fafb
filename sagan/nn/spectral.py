"""Spectral norm (Miyato et al. 2018) switched on or off across a network's conv/linear layers."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from sagan.errors import ConfigError

G_SPECTRAL_NORM = (
    "backbone",
    "on",
    "off",
)  # backbone: what the backbone does (dcgan off, resnet on)


def set_spectral_norm(module: nn.Module, on: bool) -> nn.Module:
    """Add spectral norm to every conv/linear weight without it, or remove it from all
    (keeping the unnormalised weight) when ``on`` is False."""
    for m in list(module.modules()):
        if not isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            continue
        has = parametrize.is_parametrized(m, "weight")
        if on and not has:
            spectral_norm(m)
        elif not on and has:
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    return module


def check_g_spectral_norm(value: str) -> None:
    if value not in G_SPECTRAL_NORM:
        raise ConfigError(f"model.g_spectral_norm {value!r} is unknown; allowed: {G_SPECTRAL_NORM}")
