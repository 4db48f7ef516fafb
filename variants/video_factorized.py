"""Factorized spatio-temporal attention: over time per pixel, then over space per frame."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.video_attention import FactorizedAttention3d
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("video_factorized", tags=("video",))
def video_factorized(
    g_resolutions: list[int] = (8,),  # type: ignore[assignment]
    d_resolutions: list[int] = (8,),  # type: ignore[assignment]
    impl: str = "auto",
) -> VariantSpec:
    """Temporal then spatial attention (DVD-GAN's separable form): O(N (T + HW)), not O(N^2)."""
    block = partial(FactorizedAttention3d, impl=impl)
    return at_resolutions(block, g_resolutions, d_resolutions, "video")
