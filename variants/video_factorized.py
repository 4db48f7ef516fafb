"""Factorized spatio-temporal attention: over time per pixel, then over space per frame."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, check_attention
from sagan.nn.video_attention import FactorizedAttention3d
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("video_factorized", tags=("video",))
def video_factorized(
    g_resolutions: list[int] = (8,),  # type: ignore[assignment]
    d_resolutions: list[int] = (8,),  # type: ignore[assignment]
    impl: str = "auto",
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """Temporal then spatial attention (DVD-GAN's separable form): O(N (T + HW)), not O(N^2).

    key_ratio: query/key channels of both attentions are C // key_ratio (the paper's C/8).
    """
    check_attention(impl=impl, key_ratio=key_ratio)
    block = partial(FactorizedAttention3d, impl=impl, key_ratio=key_ratio)
    return at_resolutions(block, g_resolutions, d_resolutions, "video")
