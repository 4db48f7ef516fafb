"""Mixed attention: channel attention (SE or CBAM) combined with spatial self-attention."""

from functools import partial

from torch import nn

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.nn.channel import CBAM, SqueezeExcitation
from sagan.nn.options import check_choice, check_positive_int
from sagan.registry import register_variant
from variants._slots import at_resolutions

CHANNEL_BLOCKS = {"se": SqueezeExcitation, "cbam": CBAM}
ORDERS = ("channel_first", "spatial_first")


def mixed_block(
    channels: int, *, channel: str, order: str, reduction: int, impl: str, key_ratio: int
) -> nn.Module:
    parts = [
        CHANNEL_BLOCKS[channel](channels, reduction=reduction),
        SelfAttention2d(channels, impl=impl, key_ratio=key_ratio),
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
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """Squeeze-and-excitation (Hu et al. 2018) or CBAM (Woo et al. 2018) plus SAGAN attention.

    channel: "se" (channel gate) or "cbam" (channel gate + 7x7 spatial map); order:
    "channel_first" or "spatial_first". Each part is a gated residual starting at identity.
    reduction: the channel MLP's hidden width is C // reduction; key_ratio: the spatial
    attention's query/key channels are C // key_ratio (the paper's C/8).
    """
    check_choice("channel", channel, CHANNEL_BLOCKS)
    check_choice("order", order, ORDERS)
    check_positive_int("reduction", reduction, "the channel MLP's hidden width is C // reduction")
    check_attention(impl=impl, key_ratio=key_ratio)
    options = {"reduction": reduction, "impl": impl, "key_ratio": key_ratio}
    block = partial(mixed_block, channel=channel, order=order, **options)
    return at_resolutions(block, g_resolutions, d_resolutions)
