"""The video baseline: the video backbone (3D convolutions) with no attention."""

from sagan.models import VariantSpec
from sagan.registry import register_variant


@register_variant("video_baseline", tags=("video",))
def video_baseline() -> VariantSpec:
    """3D-conv video G and D (VGAN/TGAN style), no attention: the video baseline."""
    return VariantSpec(backbone="video")
