"""Series against x drawn as what their points can show: a line with its 95% CI band over
seeds from three x values on, and below that point-ranges (the mean, its 95% CI as a whisker,
the seeds as dots), the arms dodged apart so none hides another. A line through one or two
x values reads as a trend that was never measured."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from sagan.report.panels import arm_dashes, arm_markers, errorbar, keep_above, t_interval

MIN_LINE_POINTS = 3
DODGE = 0.1  # of the axis's view, between neighbouring arms


def line_series(rows: pd.DataFrame, x: str, hue: str) -> list[str]:
    """The series (values of ``hue``) with at least ``MIN_LINE_POINTS`` x values."""
    counts = rows.dropna(subset=[x]).groupby(hue)[x].nunique()
    return sorted(counts[counts >= MIN_LINE_POINTS].index)


def lines_or_ranges(
    ax: plt.Axes,
    rows: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str,
    colors: Mapping[str, str],
    cell: Sequence[str],
    lower: float | None = None,
    log_x: bool = False,
    marker: str | None = "o",
) -> None:
    """Each ``hue`` series of ``rows`` (one row per seed and x): a line with its CI band
    (``panels.errorbar``, cut at ``lower``) where it has 3+ x values, else point-ranges."""
    rows = rows[rows[y].notna()]
    long = line_series(rows, x, hue)
    if long:
        lines = rows[rows[hue].isin(long)]
        markers = arm_markers(colors) if marker else False
        sns.lineplot(
            lines, x=x, y=y, hue=hue, hue_order=long, palette=colors, style=hue,
            markers={a: markers[a] for a in long} if markers else False,
            dashes={a: arm_dashes(colors)[a] for a in long}, markersize=3,
            errorbar=errorbar(lines, cell, lower), ax=ax, legend=False,
        )  # fmt: skip
    short = rows[~rows[hue].isin(long)]
    if len(short):
        point_ranges(ax, short, x=x, y=y, hue=hue, colors=colors, lower=lower, log_x=log_x)
    keep_above(ax, lower)


def point_ranges(
    ax: plt.Axes,
    rows: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str,
    colors: Mapping[str, str],
    lower: float | None = None,
    log_x: bool = False,
) -> None:
    """Per series and x value: the mean over seeds as a marker with its 95% CI
    (``panels.t_interval``, cut at ``lower``) as a whisker, the seeds as faint dots; the
    series dodged about each x value in the order of ``colors``."""
    arms = [a for a in colors if a in set(rows[hue])]
    markers = arm_markers(colors)
    step = _dodge_step(rows[x].to_numpy(dtype=float), max(len(arms), 2), log_x)
    for i, arm in enumerate(arms):
        shift = (i - (len(arms) - 1) / 2) * step
        for at, cell in rows[rows[hue] == arm].groupby(x):
            values = cell[y].to_numpy(dtype=float)
            values = values[np.isfinite(values)]
            if not len(values):
                continue
            px = at * 10**shift if log_x else at + shift
            _point_range(ax, px, values, colors[arm], markers[arm], lower)


def _point_range(
    ax: plt.Axes, x: float, values: np.ndarray, color: str, marker: str, lower: float | None
) -> None:
    """One mean, its whisker (none for one seed) and its seeds as dots."""
    mean = float(values.mean())
    lo, hi = t_interval(values, lower=lower)
    err = None if math.isnan(lo) or lo == hi else [[mean - lo], [hi - mean]]
    ax.scatter([x] * len(values), values, s=9, color=color, alpha=0.35, lw=0, zorder=2)
    ax.errorbar(x, mean, yerr=err, fmt=marker, color=color, ms=4, capsize=2, elinewidth=1, zorder=3)


def _dodge_step(xs: np.ndarray, arms: int, log_x: bool) -> float:
    """The shift between neighbouring arms (in decades on a log axis): ``DODGE`` of the x
    values' span with the axis margins, the arms at one x kept within half the gap to the
    next x value and half the span."""
    xs = np.unique(xs[np.isfinite(xs) & ((xs > 0) if log_x else True)])
    if not len(xs):
        return 0.0
    at = np.log10(xs) if log_x else xs
    # the view the axis shows: log sizes padded as panels.size_axis pads them
    span = at[-1] - at[0]
    view = span + (0.2 * max(span, math.log10(4)) if log_x else 0.1 * (span or abs(at[0]) or 1))
    gap = np.diff(at).min() if len(at) > 1 else view
    return min(DODGE * view, 0.5 * gap / arms, 0.5 * view / arms)


def arm_handles(arms: Sequence[str], colors: Mapping[str, str]) -> list[Line2D]:
    """Legend entries for ``arms``: each arm's colour, marker and line style."""
    markers, dashes = arm_markers(colors), arm_dashes(colors)
    return [
        Line2D(
            [],
            [],
            color=colors[a],
            marker=markers[a],
            ms=4,
            ls=(0, dashes[a]) if dashes[a] else "-",
            label=a,
        )  # fmt: skip
        for a in arms
    ]
