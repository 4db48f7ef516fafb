"""Layout rules every report figure shares: panels wrapped at most three to a row, log size
axes ticked at the sizes themselves, tick labels that never overlap, labelled reference lines,
and error bars (and titles) that say "one seed" when there is nothing to bootstrap."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullLocator

from sagan.report.stats import t_interval as stats_t_interval

TWO_COLUMN_WIDTH = 7.0  # inches: a full-width figure in a two-column paper
SAVE_DPI = 200
MAX_COLUMNS = 3  # a panel narrower than a third of the page cannot hold its tick labels


def panel_grid(
    blocks: Sequence[int], row_height: float, top: float = 0.0, **kw
) -> tuple[plt.Figure, list[list[plt.Axes]]]:
    """Axes for ``blocks`` (e.g. one per dataset) of n panels each; a block starts a new row
    and wraps after at most ``MAX_COLUMNS``, rows balanced (4 panels: 2 x 2). Unused grid
    cells are removed, not left blank. ``top``: inches kept above for titles and legends."""
    ncols = grid_columns(blocks)
    rows = [math.ceil(n / ncols) for n in blocks]
    size = (panel_width(blocks) * ncols, row_height * sum(rows) + top)
    fig, grid = plt.subplots(sum(rows), ncols, figsize=size, squeeze=False, **kw)
    out, start = [], 0
    for n, r in zip(blocks, rows, strict=True):
        cells = list(grid[start : start + r].flat)
        out.append(cells[:n])
        for ax in cells[n:]:
            fig.delaxes(ax)
        start += r
    return fig, out


def grid_columns(blocks: Sequence[int]) -> int:
    """The column count (at most ``MAX_COLUMNS``) that needs the fewest rows; of those, the
    fewest columns, so 4 panels sit 2 x 2, not 3 + 1."""
    fits = range(min(max(blocks), MAX_COLUMNS), 0, -1)
    return min(fits, key=lambda c: (sum(math.ceil(n / c) for n in blocks), c))


def panel_width(blocks: Sequence[int]) -> float:
    """Inches: the page width shared by the grid's columns; a lone panel gets one column."""
    ncols = grid_columns(blocks)
    return TWO_COLUMN_WIDTH / ncols if ncols > 1 else TWO_COLUMN_WIDTH / 2


def size_axis(ax: plt.Axes, sizes: Iterable[float], axis: str = "x") -> None:
    """A log axis ticked at exactly ``sizes``, labelled as numbers (1,397, not 10^3), with no
    minor ticks and a margin so the end labels stay inside the panel."""
    sizes = sorted({int(n) for n in sizes if np.isfinite(n)})
    which = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    which.set_ticks(sizes, [f"{n:,}" for n in sizes])
    which.set_minor_locator(NullLocator())
    pad = max(sizes[-1] / sizes[0], 4.0) ** 0.1 if sizes else 1.0
    if sizes:
        (ax.set_xlim if axis == "x" else ax.set_ylim)(sizes[0] / pad, sizes[-1] * pad)


def crowded_ticks(ax: plt.Axes, renderer) -> bool:
    """Whether two drawn x tick labels of ``ax`` overlap: side by side for flat labels, along
    their normal for rotated ones."""
    lo, hi = sorted(ax.get_xlim())
    shown = [
        (ax.transData.transform((tick.get_loc(), 0))[0], tick.label1)
        for tick in ax.xaxis.get_major_ticks()
        if tick.label1.get_visible() and tick.label1.get_text() and lo <= tick.get_loc() <= hi
    ]
    if len(shown) < 2:
        return False
    shown.sort(key=lambda p: p[0])
    angle = math.radians(shown[0][1].get_rotation() % 180)
    if angle:  # parallel labels: the gap across them must hold a line of text
        height = shown[0][1].get_fontsize() * ax.figure.dpi / 72 * 1.1  # pixels
        return any((b - a) * math.sin(angle) < height for (a, _), (b, _) in pairwise(shown))
    boxes = [t.get_window_extent(renderer) for _, t in shown]
    return any(b.x0 < a.x1 + 2 for a, b in pairwise(boxes))


def untangle_ticks(fig: plt.Figure) -> None:
    """Rotate the x tick labels of any panel where they overlap, then keep every other one
    while they still do; the figure's layout runs again after each change."""
    for step in (_rotate, *[_thin] * 6):  # 6 halvings: 64 labels down to one
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        crowded = [ax for ax in fig.axes if crowded_ticks(ax, renderer)]
        if not crowded:
            return
        for ax in crowded:
            step(ax)
        if fig.get_layout_engine() is not None:
            fig.get_layout_engine().execute(fig)


def _rotate(ax: plt.Axes) -> None:
    for t in ax.get_xticklabels():
        t.set(rotation=40, ha="right", rotation_mode="anchor")


def _thin(ax: plt.Axes) -> None:
    shown = [t.label1 for t in ax.xaxis.get_major_ticks() if t.label1.get_visible()]
    for label in shown[1::2]:
        label.set_visible(False)


REFERENCES = {"real_heldout": ("-", "real held-out"), "chance": (":", "chance")}


def reference_lines(ax: plt.Axes, rows: pd.DataFrame, metric: str) -> None:
    """The score of real held-out images and of chance, where the metrics carry them
    (``<metric>_real_heldout``, ``<metric>_chance``), as labelled horizontal lines."""
    lines = {
        name: (style, float(rows[f"{metric}_{key}"].median()))
        for key, (style, name) in REFERENCES.items()
        if f"{metric}_{key}" in rows and rows[f"{metric}_{key}"].notna().any()
    }
    top = max((value for _, value in lines.values()), default=None)
    for name, (style, value) in lines.items():
        ax.axhline(value, ls=style, color="0.3", lw=1, label=name, zorder=0)
        below = len(lines) > 1 and value == top  # the labels sit between the lines, in the panel
        ax.annotate(
            f"{name} {value:.2f}", (1, value), xycoords=("axes fraction", "data"),
            xytext=(-2, -2 if below else 2), textcoords="offset points", ha="right",
            va="top" if below else "bottom", fontsize=6, color="0.3",
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
        )  # fmt: skip


def seed_counts(runs: pd.DataFrame, cell: Sequence[str]) -> tuple[int, int]:
    """The fewest and most seeds behind one cell (one point of a figure)."""
    if not len(runs):
        return 0, 0
    keys = [c for c in cell if c in runs]
    groups = runs.groupby(keys) if keys else runs.groupby(np.zeros(len(runs)))
    counts = groups["seed"].nunique() if "seed" in runs else groups.size()  # a row per seed
    return int(counts.min()), int(counts.max())


def seed_note(runs: pd.DataFrame, cell: Sequence[str], what: str = "95% CI") -> str:
    """'one seed', or 'mean of 3 seeds, 95% CI': a CI over one seed is no interval."""
    fewest, most = seed_counts(runs, cell)
    if most <= 1:
        return "one seed"
    seeds = f"{most}" if fewest == most else f"{fewest}-{most}"
    return f"mean of {seeds} seeds, {what}"


def errorbar(runs: pd.DataFrame, cell: Sequence[str]) -> Callable | None:
    """The 95% CI over seeds (``t_interval``) for seaborn, or none when no cell has two seeds."""
    return t_interval if seed_counts(runs, cell)[1] > 1 else None


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """``sagan.report.stats.t_interval`` for seaborn: the tables' 95% CI over seeds, and one
    value a point (seaborn's bootstrap, 1,000 resamples per plotted point, took 30 s to draw
    the default study's training curves)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        m = float(x.mean()) if len(x) else math.nan
        return m, m
    return stats_t_interval(x)


FLOOR_COLOR = "0.55"


def floor_of(floor: pd.DataFrame | None, dataset: str, metric: str) -> tuple[float, float] | None:
    """(mean, SD) of ``metric``'s floor on the dataset entry; None where none was measured."""
    if floor is None or floor.empty:
        return None
    rows = floor[(floor["dataset"] == dataset) & (floor["metric"] == metric)]
    return (float(rows["mean"].iloc[0]), float(rows["sd"].iloc[0])) if len(rows) else None


def floor_band(ax: plt.Axes, mean: float, sd: float, label: str = "real vs real") -> None:
    """The floor as a grey band (mean +- SD) with its mean dotted, labelled inside the panel."""
    ax.axhspan(mean - sd, mean + sd, color=FLOOR_COLOR, alpha=0.25, lw=0, zorder=0)
    ax.axhline(mean, ls=":", color=FLOOR_COLOR, lw=1, zorder=0)
    ax.annotate(
        f"{label} {mean:.3g}", (0, mean + sd), xycoords=("axes fraction", "data"),
        xytext=(2, 1), textcoords="offset points", ha="left", va="bottom", fontsize=6,
        color="0.3", bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
    )  # fmt: skip
