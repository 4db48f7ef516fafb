"""Placing a variant's attention blocks at chosen feature-map sides.

A variant declares, when it registers, the two options that take the sides of its blocks in
G and in D (``sagan.registry.Placement``). The core places blocks (the cost sweep over sides,
the benchmark of the port's layout) and reads placements back only through that
declaration, so it never spells a variant's option names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagan.errors import ConfigError
from sagan.registry import VARIANTS, Placement


def placement(variant: str) -> Placement | None:
    """The options that place the registered variant's blocks; None where it declares none."""
    return VARIANTS.get(variant).placement


def placement_names(variant: str) -> tuple[str, ...]:
    """The variant's G and D placement options, in that order; () where it declares none."""
    where = placement(variant)
    return (where.g, where.d) if where else ()


def placeable_variants() -> list[str]:
    """The registered variants that declare a placement."""
    return [e.name for e in VARIANTS.entries() if e.placement is not None]


def placed_options(
    variant: str, options: Mapping[str, Any], g_sides: Sequence[int], d_sides: Sequence[int]
) -> dict[str, Any]:
    """``options`` with the variant's blocks moved to ``g_sides`` in G and ``d_sides`` in D;
    a ConfigError where the variant declares no placement."""
    where = placement(variant)
    if where is None:
        raise ConfigError(
            f"variant {variant!r} declares no placement (the options that set where its blocks "
            f"sit in G and D), so its blocks cannot be placed; use one that does "
            f"({', '.join(placeable_variants()) or 'none registered'}), or register it with "
            "placement=Placement(...)"
        )
    return dict(options) | {where.g: list(g_sides), where.d: list(d_sides)}


def placed_sides(variant: str, options: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The G and D sides that ``options`` set through the variant's placement (empty where
    they set none, or the variant declares no placement or is not registered)."""
    where = VARIANTS.get(variant).placement if variant in VARIANTS else None
    if where is None:
        return [], []
    return list(options.get(where.g) or []), list(options.get(where.d) or [])
