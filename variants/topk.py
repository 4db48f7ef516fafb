"""Top-k sparse attention: each query attends only to its k highest-scoring keys."""

from functools import partial

from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("topk")
def topk(
    g_resolutions: list[int] = (16,),  # type: ignore[assignment]
    d_resolutions: list[int] = (16,),  # type: ignore[assignment]
    top_k: int | float = 0.125,
    chunk_size: int = 512,
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """SAGAN block with top-k sparse attention (Zhao et al. 2019, "Explicit Sparse Transformer").

    top_k: keys kept per query, an int or a fraction of the N keys; the softmax runs over the
    kept logits only. Queries are processed in chunks of chunk_size, so peak memory is
    O(chunk x N) rather than O(N^2). key_ratio: query/key channels are C // key_ratio (the
    paper's C/8).
    """
    options = {"impl": "topk", "top_k": top_k, "chunk_size": chunk_size, "key_ratio": key_ratio}
    check_attention(**options)
    block = partial(SelfAttention2d, **options)
    return at_resolutions(block, g_resolutions, d_resolutions)
