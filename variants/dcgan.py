"""The baseline: the backbone with no attention."""

from sagan.models import VariantSpec
from sagan.registry import register_variant


@register_variant("dcgan")
def dcgan() -> VariantSpec:
    """Baseline without attention (DCGAN, Radford et al. 2016)."""
    return VariantSpec()
