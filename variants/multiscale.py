"""Multi-scale attention: SAGAN blocks at several feature-map resolutions at once."""

from functools import partial

from sagan.errors import ConfigError
from sagan.models import VariantSpec
from sagan.nn.attention import SelfAttention2d
from sagan.registry import register_variant
from variants._slots import at_resolutions


@register_variant("multiscale")
def multiscale(
    g_resolutions: list[int] = (8, 16),  # type: ignore[assignment]
    d_resolutions: list[int] = (16, 8),  # type: ignore[assignment]
    impl: str = "auto",
) -> VariantSpec:
    """Self-attention at two or more resolutions in G and D (coarse = global, fine = local).

    Tests the claim that attending at several scales captures structure from local to
    global; Zhang et al. 2019 (Table 1) compare single placements, this combines them.
    """
    for net, res in (("g_resolutions", g_resolutions), ("d_resolutions", d_resolutions)):
        if len(set(res)) < 2:
            raise ConfigError(f"multiscale needs two or more distinct {net}, got {list(res)}")
    return at_resolutions(partial(SelfAttention2d, impl=impl), g_resolutions, d_resolutions)
