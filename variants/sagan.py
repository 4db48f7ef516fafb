"""SAGAN: self-attention in G and D (Zhang et al. 2019, "Self-Attention GANs", eq. 1-3)."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("sagan")
def sagan(
    g_resolutions: list[int] = (16,),  # type: ignore[assignment]
    d_resolutions: list[int] = (16,),  # type: ignore[assignment]
    impl: str = "auto",
    form: str = "paper",
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """Self-attention block (Zhang et al. 2019, eq. 1-3) at chosen G and D feature maps.

    form="paper" is the block as the paper writes it; form="official" is the authors' code
    (value C/2 + output 1x1 conv, keys and values 2x2 max-pooled). The paper's best FID came
    from attention at mid-to-high feature maps (32x32 and 64x64 of a 128 px model). Left
    unset, g_resolutions and d_resolutions place the block at 16x16; the default study
    (config/default.yaml) sets 8x8, a quarter of its 32 px images and cheap on a laptop CPU.
    key_ratio: query/key channels are C // key_ratio (the paper's C/8).
    """
    check_attention(impl=impl, form=form, key_ratio=key_ratio)
    block = partial(SelfAttention2d, impl=impl, form=form, key_ratio=key_ratio)
    return at_resolutions(block, g_resolutions, d_resolutions)
