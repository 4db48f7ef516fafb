"""Mixed attention: channel attention (SE or CBAM) combined with spatial self-attention."""

from functools import partial

from torch import nn

from sagan.errors import ConfigError
from sagan.models import VariantSpec
from sagan.nn.attention import SelfAttention2d
from sagan.nn.channel import CBAM, SqueezeExcitation
from sagan.registry import register_variant
from variants._slots import at_resolutions

CHANNEL_BLOCKS = {"se": SqueezeExcitation, "cbam": CBAM}
ORDERS = ("channel_first", "spatial_first")


def mixed_block(channels: int, *, channel: str, order: str, reduction: int, impl: str) -> nn.Module:
    parts = [
        CHANNEL_BLOCKS[channel](channels, reduction=reduction),
        SelfAttention2d(channels, impl=impl),
    ]
    return nn.Sequential(*(parts if order == "channel_first" else parts[::-1]))


@register_variant("se_spatial")
def se_spatial(
    g_resolutions: list[int] = (16,),  # type: ignore[assignment]
    d_resolutions: list[int] = (16,),  # type: ignore[assignment]
    channel: str = "se",
    order: str = "channel_first",
    reduction: int = 8,
    impl: str = "auto",
) -> VariantSpec:
    """Squeeze-and-excitation (Hu et al. 2018) or CBAM (Woo et al. 2018) plus SAGAN attention.

    channel: "se" (channel gate) or "cbam" (channel gate + 7x7 spatial map); order:
    "channel_first" or "spatial_first". Each part is a gated residual starting at identity.
    """
    if channel not in CHANNEL_BLOCKS:
        raise ConfigError(f"se_spatial: channel must be one of {sorted(CHANNEL_BLOCKS)}")
    if order not in ORDERS:
        raise ConfigError(f"se_spatial: order must be one of {ORDERS}, got {order!r}")
    block = partial(mixed_block, channel=channel, order=order, reduction=reduction, impl=impl)
    return at_resolutions(block, g_resolutions, d_resolutions)
