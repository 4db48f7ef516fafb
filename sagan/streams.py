"""Common random numbers: every source of a run's randomness draws from its own stream,
seeded from (run seed, stream name).

Two arms trained with one seed then share everything but their attention path: the
backbone's initial weights, the spectral-norm vectors of every backbone layer, the training
latents, the data order and the evaluation latents. An attention block whose gate starts at
0 leaves such an arm the baseline's exact function at iteration 0, and the paired difference
of two arms measures the attention, not the luck of the draw (compare_gan paired its arms by
seed the same way; here a seed pairs them down to the weights).

With one global generator, as before (``train.streams: global``), the attention block's
init consumed draws between the backbone's layers, so the layers after it and every latent
differed between arms: only the data order was shared.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm

STREAMS = ("paired", "global")  # train.streams: paired = one stream per source (default)

# Stream names, one per source of randomness (blocks add their net and slot)
BACKBONE = "init/backbone/{net}"
ATTENTION = "init/attention/{net}/{slot}"
GROWTH = "init/progressive"
SPECTRAL = "init/spectral/{net}/{module}"
LATENTS = "latents/train"
DATA_ORDER = "data/order"

POWER_ITERATIONS = 15  # what torch's spectral_norm runs at registration


def stream_seed(seed: int, name: str) -> int:
    """A 63-bit seed for the stream ``name`` of run seed ``seed``: fixed across machines,
    Python versions and processes (unlike ``hash``), and unrelated between names."""
    digest = hashlib.sha256(f"{seed}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int, name: str) -> torch.Generator:
    """A CPU generator for the stream: draws stay the same on any device once moved."""
    return torch.Generator().manual_seed(stream_seed(seed, name))


@contextlib.contextmanager
def seeded(seed: int | None, name: str) -> Iterator[None]:
    """torch's global CPU generator seeded for the stream inside the block, and restored
    after it: module constructors draw their initial weights from the global generator only.
    ``seed`` None: the global generator as it is (the legacy path)."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream_seed(seed, name))
        yield


@torch.no_grad()
def reseed_spectral_norm(net: nn.Module, seed: int, net_name: str) -> None:
    """Every spectral norm's power-iteration vectors u, v redrawn from a stream keyed by its
    module's name, then settled by the power iterations torch runs at registration.

    torch draws them when the norm is registered, which ``apply_spectral_norm`` does over the
    whole network at once, attention blocks included: without this, a block in an early
    layer shifts the vectors of every backbone layer after it."""
    for name, module in net.named_modules():
        if not parametrize.is_parametrized(module, "weight"):
            continue
        for norm in module.parametrizations.weight:
            if not isinstance(norm, _SpectralNorm) or norm._u.is_meta:
                continue
            rng = generator(seed, SPECTRAL.format(net=net_name, module=name))
            weight = norm._reshape_weight_to_matrix(module.parametrizations.weight.original)
            u = torch.randn(norm._u.shape, generator=rng).to(norm._u)  # (h,)
            v = torch.randn(norm._v.shape, generator=rng).to(norm._v)  # (w,)
            norm._u.copy_(F.normalize(u, dim=0, eps=norm.eps))
            norm._v.copy_(F.normalize(v, dim=0, eps=norm.eps))
            norm._power_method(weight, POWER_ITERATIONS)
