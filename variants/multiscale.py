"""Multi-scale attention: SAGAN blocks at several feature-map resolutions at once."""

from functools import partial

from sagan.errors import ConfigError
from sagan.models import VariantSpec
from sagan.nn.attention import KEY_RATIO, SelfAttention2d, check_attention
from sagan.registry import register_variant
from variants._slots import at_resolutions, check_resolutions


@register_variant("multiscale")
def multiscale(
    g_resolutions: list[int] = (8, 16),  # type: ignore[assignment]
    d_resolutions: list[int] = (16, 8),  # type: ignore[assignment]
    impl: str = "auto",
    key_ratio: int = KEY_RATIO,
) -> VariantSpec:
    """Self-attention at two or more resolutions in G and D (coarse = global, fine = local).

    Tests the claim that attending at several scales captures structure from local to
    global; Zhang et al. 2019 (Table 1) compare single placements, this combines them.
    key_ratio: query/key channels are C // key_ratio (the paper's C/8).
    """
    for net, res in (("g_resolutions", g_resolutions), ("d_resolutions", d_resolutions)):
        if len(set(check_resolutions(net, res))) < 2:
            raise ConfigError(f"multiscale needs two or more distinct {net}, got {list(res)}")
    check_attention(impl=impl, key_ratio=key_ratio)
    block = partial(SelfAttention2d, impl=impl, key_ratio=key_ratio)
    return at_resolutions(block, g_resolutions, d_resolutions)
