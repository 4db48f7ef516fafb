"""Full spatio-temporal self-attention: every position of a clip attends to all T*H*W."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, check_attention
from sagan.nn.video_attention import SelfAttention3d
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("video3d", tags=("video",))
def video3d(
    g_resolutions: list[int] = (8,),  # type: ignore[assignment]
    d_resolutions: list[int] = (8,),  # type: ignore[assignment]
    impl: str = "auto",
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """SAGAN's block over T*H*W tokens (claimed to improve frame-to-frame consistency).

    Slots are the spatial sides of the video backbone's stages (an 8 slot of a 16-frame,
    32 px model is its (4, 8, 8) map: 256 tokens). impl "auto" is the fused SDPA kernel on
    GPUs and large maps. key_ratio: query/key channels are C // key_ratio (the paper's C/8).
    """
    check_attention(impl=impl, key_ratio=key_ratio)
    block = partial(SelfAttention3d, impl=impl, key_ratio=key_ratio)
    return at_resolutions(block, g_resolutions, d_resolutions, "video")
