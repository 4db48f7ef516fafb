"""Shared by variants: one block factory placed at the chosen G and D resolutions."""

from sagan.models import BlockFactory, VariantSpec


def at_resolutions(
    block: BlockFactory,
    g_resolutions: list[int],
    d_resolutions: list[int],
    backbone: str | None = None,
) -> VariantSpec:
    return VariantSpec(
        g_slots={int(r): block for r in g_resolutions},
        d_slots={int(r): block for r in d_resolutions},
        backbone=backbone,
    )
