"""Placing a variant's attention blocks at chosen feature-map sides.

A variant's spec names the two options that take the sides of its blocks in G and in D
(``VariantSpec.placement``). The core places blocks (the cost sweep over sides, the benchmark
of the port's layout) and reads placements back only through it, so it never spells a
variant's option names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sagan.errors import ConfigError
from sagan.models.backbone import build_variant
from sagan.models.spec import Placement
from sagan.registry import VARIANTS


def placement(variant: str, options: Mapping[str, Any] | None = None) -> Placement | None:
    """The options that place the variant's blocks, from its spec built with ``options``
    (default: its own defaults); None where it declares none."""
    return build_variant(variant, dict(options or {})).placement


def placement_names(variant: str, options: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The variant's G and D placement options, in that order; () where it declares none."""
    where = placement(variant, options)
    return (where.g, where.d) if where else ()


def placeable_variants() -> list[str]:
    """The registered variants whose spec (built with their defaults) declares a placement."""
    return [name for name in VARIANTS.names() if _placement_or_none(name, {})]


def placed_options(
    variant: str, options: Mapping[str, Any], g_sides: Sequence[int], d_sides: Sequence[int]
) -> dict[str, Any]:
    """``options`` with the variant's blocks moved to ``g_sides`` in G and ``d_sides`` in D;
    a ConfigError where the variant declares no placement."""
    where = placement(variant, options)
    if where is None:
        raise ConfigError(
            f"variant {variant!r} declares no placement (the options that set where its blocks "
            f"sit in G and D), so its blocks cannot be placed; use one that does "
            f"({', '.join(placeable_variants()) or 'none registered'}), or return "
            "VariantSpec(placement=Placement(...)) from its builder"
        )
    return dict(options) | {where.g: list(g_sides), where.d: list(d_sides)}


def placed_sides(variant: str, options: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """The G and D sides that ``options`` set through the variant's placement; empty where
    they set none, or the variant declares no placement or no longer builds (neither with
    these options nor with its defaults)."""
    where = _placement_or_none(variant, options) or _placement_or_none(variant, {})
    if where is None:
        return [], []
    return list(options.get(where.g) or []), list(options.get(where.d) or [])


def _placement_or_none(variant: str, options: Mapping[str, Any]) -> Placement | None:
    try:
        return placement(variant, options)
    except Exception:  # not registered, or these options no longer build it
        return None
