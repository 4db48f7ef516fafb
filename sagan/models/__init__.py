"""Backbones with attention slots keyed by feature-map resolution."""

from sagan.models import dcgan, resnet, video  # noqa: F401  (register the built-in backbones)
from sagan.models.backbone import BACKBONES, build_backbone, build_models, build_variant
from sagan.models.spec import BlockFactory, Placement, VariantSpec

__all__ = [
    "BACKBONES",
    "BlockFactory",
    "Placement",
    "VariantSpec",
    "build_backbone",
    "build_models",
    "build_variant",
]
