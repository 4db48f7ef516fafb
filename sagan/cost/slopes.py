"""Log-log slopes of attention cost against tokens N, fitted only through costs the
measurement can tell from nothing: at least ``MIN_POINTS`` distinct token counts above the
floor. A line through two points always fits; one of them at the floor gives any slope."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

MIN_POINTS = 3
# peak memory is read in steps of 0.1 MiB (sagan.cost.profile): a reading of one step is noise
MEMORY_STEP_MIB = 0.1
NO_SLOPE = f"fewer than {MIN_POINTS} points above the floor, no slope"


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y on log x: 2 for a cost that grows as N^2. NaN when fewer
    than two points are positive."""
    pts = [(a, b) for a, b in zip(x, y, strict=True) if a > 0 and b > 0]
    if len(pts) < 2:
        return math.nan
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def above_floor(rows: pd.DataFrame, column: str) -> pd.Series:
    """Which scaling rows' ``column`` lies above its measurement floor: a time overhead whose
    per-round ratio interval to the baseline (``ratio_lo``) lies above 1, where the profile
    kept it, else any positive one; a memory overhead above one 0.1 MiB step; counted MACs
    above 0."""
    value = pd.to_numeric(rows[column], errors="coerce")
    if column == "overhead_mem_mib":
        return value > MEMORY_STEP_MIB + 1e-9
    if column == "overhead_ms" and "ratio_lo" in rows:
        return (value > 0) & (pd.to_numeric(rows["ratio_lo"], errors="coerce").fillna(2) > 1)
    return value > 0


def scaling_slope(rows: pd.DataFrame, column: str) -> float:
    """The log-log slope of ``column`` against ``tokens`` through the rows above the floor;
    NaN unless they hold ``MIN_POINTS`` distinct token counts."""
    kept = rows[above_floor(rows, column) & (rows["tokens"] > 0)]
    if kept["tokens"].nunique() < MIN_POINTS:
        return math.nan
    return loglog_slope(kept["tokens"].tolist(), kept[column].tolist())
