"""Shared by variants: one block factory placed at the chosen G and D resolutions, and the
check of those resolutions (a bad one fails when the variant is built)."""

from typing import Any

from sagan.errors import ConfigError
from sagan.models import BlockFactory, Placement, VariantSpec
from sagan.nn.options import is_int

# the options a slot variant takes its G and D sides in; its spec carries them, so the core
# can place its blocks (cost sweeps) without spelling them
SLOTS = Placement(g="g_resolutions", d="d_resolutions")


def check_resolutions(option: str, value: Any) -> list[int]:
    """``value`` as a list of feature-map sides (each a power of two >= 1), else a
    ConfigError naming ``option``; a bare int is refused with a hint to write it as a list."""
    what = f"{option} must be a list of feature-map sides, each a power of two (e.g. [8, 16])"
    if is_int(value):
        raise ConfigError(f"{what}; got {value!r} (write [{value}])")
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{what}; got {value!r}")
    for r in value:
        if not (is_int(r) and r >= 1 and r & (r - 1) == 0):
            raise ConfigError(f"{what}; got {list(value)!r} ({r!r} is not)")
    return list(value)


def at_resolutions(
    block: BlockFactory,
    g_resolutions: list[int],
    d_resolutions: list[int],
    backbone: str | None = None,
) -> VariantSpec:
    g_resolutions = check_resolutions(SLOTS.g, g_resolutions)
    d_resolutions = check_resolutions(SLOTS.d, d_resolutions)
    return VariantSpec(
        g_slots={r: block for r in g_resolutions},
        d_slots={r: block for r in d_resolutions},
        backbone=backbone,
        placement=SLOTS,
    )
