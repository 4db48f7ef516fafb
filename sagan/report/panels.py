"""Layout rules every report figure shares: panels wrapped at most three to a row, log size
axes ticked at the sizes themselves, tick labels that never overlap, labelled reference lines,
and error bars (and titles) that say "one seed" when there is no spread to draw."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.container import BarContainer
from matplotlib.patches import Patch
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


def errorbar(
    runs: pd.DataFrame, cell: Sequence[str], lower: float | None = None
) -> Callable | None:
    """The 95% CI over seeds (``t_interval``, cut at ``lower``: ``stats.lower_bound`` of the
    metric) for seaborn, or none when no cell has two seeds."""
    if seed_counts(runs, cell)[1] <= 1:
        return None
    return partial(t_interval, lower=lower)


def t_interval(values: Sequence[float], lower: float | None = None) -> tuple[float, float]:
    """``sagan.report.stats.t_interval`` for seaborn: the tables' 95% CI over seeds, cut at
    ``lower``, and one value a point (seaborn's bootstrap, 1,000 resamples per plotted point,
    took 30 s to draw the default study's training curves)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        m = float(x.mean()) if len(x) else math.nan
        return m, m
    return stats_t_interval(x, lower=lower)


def keep_above(ax: plt.Axes, lower: float | None) -> None:
    """No y axis below ``lower`` (0 for an FD): a whisker or a margin must not suggest a
    value the metric cannot take."""
    if lower is not None and ax.get_ylim()[0] < lower:
        ax.set_ylim(bottom=lower)


# Okabe & Ito (2008), "Color universal design": 8 colours told apart under the common colour
# vision deficiencies; the yellow (faint on white) and black (the reference lines' tone) last
OKABE_ITO = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
)  # fmt: skip
ARM_MARKERS = ("o", "s", "^", "D", "v", "P")  # the 9th arm on: the colours again, a new marker
ARM_DASHES = ("", (4, 1.5), (1, 1), (3, 1, 1, 1), (5, 2, 1, 2), (2, 2))


def arm_order(arms: Iterable[str]) -> list[str]:
    """The arms once each, sorted: one order, whatever order a table lists them in."""
    return sorted({str(a) for a in arms})


def arm_colors(arms: Iterable[str]) -> dict[str, str]:
    """A distinct Okabe-Ito colour per arm for up to 8 arms (then the colours repeat, with
    ``arm_markers`` and ``arm_dashes`` telling the arms apart). Given every arm of the study,
    an arm has the same colour in every figure that gets this mapping."""
    order = arm_order(arms)
    return {a: OKABE_ITO[i % len(OKABE_ITO)] for i, a in enumerate(order)}


def arm_markers(arms: Iterable[str]) -> dict[str, str]:
    """One marker per round of 8 colours: arms sharing a colour differ in marker."""
    order = arm_order(arms)
    return {a: ARM_MARKERS[i // len(OKABE_ITO) % len(ARM_MARKERS)] for i, a in enumerate(order)}


def arm_dashes(arms: Iterable[str]) -> dict[str, str | tuple]:
    """One line style per round of 8 colours (seaborn's ``dashes``: "" is a solid line)."""
    order = arm_order(arms)
    return {a: ARM_DASHES[i // len(OKABE_ITO) % len(ARM_DASHES)] for i, a in enumerate(order)}


def study_arms(*tables: pd.DataFrame | None) -> list[str]:
    """Every arm (column ``arm``) named by any of the tables: the report's one colour key."""
    names = [t["arm"].dropna() for t in tables if t is not None and "arm" in t]
    return arm_order(pd.concat(names) if names else [])


def colors_for(arms: Iterable[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    """``colors`` (the report's), or a mapping of these arms alone when a figure is drawn
    on its own; an arm the mapping lacks gets a colour of its own after the mapped ones."""
    if colors is None:
        return arm_colors(arms)
    extra = [a for a in arm_order(arms) if a not in colors]
    more = {a: OKABE_ITO[(len(colors) + i) % len(OKABE_ITO)] for i, a in enumerate(extra)}
    return {**colors, **more}


def bar_containers(ax: plt.Axes) -> list[BarContainer]:
    """The axes' bar groups (seaborn: one per hue level, in order), not its error bars."""
    return [c for c in ax.containers if isinstance(c, BarContainer)]


HATCHES = ("", "////", "....", "xxxx", "\\\\\\\\", "oo")  # a bar's second key (size, precision)


def bars_by_arm(
    ax: plt.Axes, arms: Sequence[str], levels: Sequence[str], colors: Mapping[str, str]
) -> list[Patch]:
    """Recolour a seaborn barplot of x = arm (in the order ``arms``) and hue = ``levels`` (each
    present in the data; seaborn draws a container per level, in order): each bar in its arm's
    colour, each level its own hatching. Returns the levels' legend entries."""
    hatches = [HATCHES[i % len(HATCHES)] for i in range(len(levels))]
    for container, hatch in zip(bar_containers(ax), hatches, strict=False):
        for bar in container:
            arm = arms[round(bar.get_x() + bar.get_width() / 2)]  # seaborn puts arm i at x = i
            bar.set(facecolor=colors[arm], hatch=hatch, edgecolor="white")
    return [
        Patch(facecolor="0.6", edgecolor="white", hatch=hatch, label=str(level))
        for level, hatch in zip(levels, hatches, strict=True)
    ]


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
