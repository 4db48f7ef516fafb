"""Linear attention: efficient attention (Shen et al. 2021), O(N C^2) instead of O(N^2 C)."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("linear")
def linear(
    g_resolutions: list[int] = (16,),  # type: ignore[assignment]
    d_resolutions: list[int] = (16,),  # type: ignore[assignment]
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """SAGAN block with efficient attention, linear in N (Shen et al. 2021, eq. 2).

    From "Efficient Attention: Attention with Linear Complexities", eq. 2 with its softmax
    normalisation: E(Q, K, V) = softmax_rows(Q) (softmax_cols(K)^T V). Each query's softmax
    runs over its Ck channels, each key channel's over the N positions, and the Ck x C
    context K^T V is formed first, so the N x N matrix never is: O(N Ck C) MACs, linear in N
    (SAGAN's softmax(Q K^T) V is O(N^2 C)). Same parameters as `sagan` (query/key
    C // key_ratio, value C, gamma from 0), so the comparison is kernel against kernel.
    """
    check_attention(impl="linear", key_ratio=key_ratio)
    block = partial(SelfAttention2d, impl="linear", key_ratio=key_ratio)
    return at_resolutions(block, g_resolutions, d_resolutions)
