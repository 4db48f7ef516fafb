"""Cost figures: step-time overhead per arm and precision, and attention cost vs tokens N
on log-log axes with fitted slopes (2 = quadratic in N)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogFormatter, NullFormatter, NullLocator

from sagan.cost.slopes import NO_SLOPE, above_floor, scaling_slope
from sagan.cost.timing import median_interval
from sagan.report.figures import paper_theme
from sagan.report.panels import bar_containers, bars_by_arm, colors_for, panel_grid
from sagan.report.profile_ratios import round_ratios


def step_overhead(profile: pd.DataFrame, colors: dict[str, str] | None = None) -> plt.Figure:
    """ms per training step of each arm (a bar in its colour, ``colors``: the report's),
    one hatching per precision, one panel per dataset. Above a bar: its overhead over the
    baseline in the same precision as the claims' cost rows report it (``overhead_label``)."""
    paper_theme()
    datasets = list(dict.fromkeys(profile["dataset"]))
    palette = colors_for(profile["arm"].unique(), colors)
    # no shared y axis: one dataset's step can cost 10x another's
    fig, (axes,) = panel_grid([len(datasets)], row_height=2.9, top=0.4)
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = profile[profile["dataset"] == dataset]
        arms, levels = list(dict.fromkeys(rows["arm"])), list(dict.fromkeys(rows["precision"]))
        sns.barplot(
            rows, x="arm", y="ms_per_step", hue="precision", order=arms, hue_order=levels,
            errorbar=None, ax=ax, legend=False,
        )  # fmt: skip
        precisions = bars_by_arm(ax, arms, levels, palette)
        tops = []
        for container, precision in zip(bar_containers(ax), levels, strict=True):
            ms = rows[rows["precision"] == precision].drop_duplicates("arm")
            ms = ms.set_index("arm")
            bars = [(bar, arms[round(bar.get_x() + bar.get_width() / 2)]) for bar in container]
            tops += _spread_whiskers(ax, bars, ms)
            for bar, arm in bars:  # in the top band of the panel, which the bars leave free
                ax.annotate(
                    # the number, then its interval or why there is none: two short lines
                    re.sub(r" ([[(])", r"\n\1", overhead_label(ms, arm, ms["baseline"].iloc[0])),
                    (bar.get_x() + bar.get_width() / 2, 0.98), xycoords=("data", "axes fraction"),
                    ha="center", va="top", rotation=90, fontsize=6, linespacing=1.1,
                )  # fmt: skip
        ax.set_title(
            f"{dataset} ({rows['resolution'].iloc[0]} px, batch {rows['batch'].iloc[0]}"
            + (f", {levels[0]})" if len(levels) == 1 else ")"),
            fontsize=8,
        )
        first = ax.get_subplotspec().is_first_col()
        ax.set(xlabel="", ylabel="ms per training step (D + G)" if first else "")
        ax.tick_params(axis="x", rotation=30)
        ax.set_ylim(0, max(tops) / LABEL_BAND)
    height = fig.get_figheight()
    title = fig.suptitle(
        f"Training-step cost on {profile['device'].iloc[0]} (labels: overhead over the baseline, "
        f"median of the per-round ratios [its interval], as in the claims{_spread_note(profile)})",
        fontsize=8, y=1 - 0.04 / height, wrap=True,
    )  # fmt: skip
    if len(precisions) > 1:
        fig.legend(
            handles=precisions, loc="upper center", ncol=len(precisions), frameon=False,
            fontsize=7, bbox_to_anchor=(0.5, 1 - 0.2 / height),
        )  # fmt: skip
    title.set_in_layout(False)  # the rect keeps its room; the saved crop keeps it
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / height))
    title.set_in_layout(True)
    return fig


LABEL_BAND = 0.6  # the bars and whiskers fill this share of a panel's height; labels, the rest


def overhead_label(ms: pd.DataFrame, arm: str, baseline: str) -> str:
    """``arm``'s overhead over ``baseline`` (rows of one profile and precision, by arm):
    the median over interleaved rounds of 100 (arm / baseline ms - 1) and the order-statistic
    interval of that median, the statistic of the claims' cost rows; † where the machine was
    loaded. No per-round times (an older profile): no number."""
    if arm == baseline:
        return "baseline"
    if baseline not in ms.index:
        return "no baseline"
    percent = [100 * (r - 1) for r in round_ratios(ms.loc[arm], ms.loc[baseline])]
    loaded = "†" if str(ms.loc[arm].get("loaded")) == "True" else ""
    if not percent:
        return "no rounds" + loaded
    lo, hi, _ = median_interval(percent)
    median = f"{float(np.median(percent)):+.3g}%"
    if not np.isfinite(lo):
        rounds = f"{len(percent)} round{'s' if len(percent) > 1 else ''}"
        return f"{median} ({rounds}:\nno interval){loaded}"  # three short lines in a bar
    return f"{median} [{lo:+.3g}, {hi:+.3g}]{loaded}"


def _spread_whiskers(ax: plt.Axes, bars: list, ms: pd.DataFrame) -> list[float]:
    """Whiskers from the 25th to the 75th percentile of the interleaved repeats, where the
    profile has them: one median hides a step time that jumped while the machine was busy.
    Returns the top of each bar's whisker (or of the bar)."""
    x = [bar.get_x() + bar.get_width() / 2 for bar, _ in bars]
    mid = np.array([ms.loc[arm, "ms_per_step"] for _, arm in bars], dtype=float)
    if not {"ms_q25", "ms_q75"} <= set(ms):
        return list(mid)
    q25 = np.array([ms.loc[arm, "ms_q25"] for _, arm in bars], dtype=float)
    q75 = np.array([ms.loc[arm, "ms_q75"] for _, arm in bars], dtype=float)
    below, above = (mid - q25).clip(min=0), (q75 - mid).clip(min=0)
    ax.errorbar(x, mid, yerr=[below, above], fmt="none", ecolor="0.2", elinewidth=0.8, capsize=2)
    return list(np.fmax(mid, np.nan_to_num(q75, nan=0.0)))


def _spread_note(profile: pd.DataFrame) -> str:
    notes = []
    if {"ms_q25", "ms_q75"} <= set(profile):
        notes.append("whiskers: IQR over repeats")
    if "loaded" in profile and profile["loaded"].fillna(False).astype(bool).any():
        notes.append("† machine loaded")
    return "; " + "; ".join(notes) if notes else ""


SCALING_PANELS = {
    "overhead_ms": "ms / step over baseline",
    "attention_macs": "attention MACs / image",
    "overhead_mem_mib": "MiB over baseline",
}
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")


def slope_label(placement: str, slope: float) -> str:
    """The legend entry of one fitted line; no 'slope nan' where there is nothing to fit."""
    if math.isfinite(slope):
        return f"{placement}: slope {slope:.2f}"
    return f"{placement}: no slope"  # why: in the title (NO_SLOPE), once


def cost_scaling(scaling: pd.DataFrame) -> plt.Figure:
    """Attention cost against tokens N, one line per placement, fitted log-log slope in the
    legend (``scaling_slope``: none through fewer than 3 points above the measurement floor;
    a point at the floor hollow, and no fit dotted); points at or below zero (noise in a
    small overhead) cannot sit on a log axis, and a cost with none above zero gets no panel,
    only a word in the title."""
    paper_theme()
    rows = scaling[scaling["tokens"] > 0].copy()
    rows["placement"] = "side / " + (rows["resolution"] // rows["attention_side"]).astype(str)
    if "arm" in rows and rows["arm"].nunique() > 1:  # one line per arm and side
        rows["placement"] = rows["arm"] + ", " + rows["placement"]
    panels = {c: name for c, name in SCALING_PANELS.items() if (rows[c] > 0).any()}
    noise = [name for c, name in SCALING_PANELS.items() if c not in panels]
    lines = rows["placement"].nunique()
    fig, (axes,) = panel_grid([max(len(panels), 1)], row_height=2.6 + 0.45 * max(lines - 2, 0))
    for ax, (column, label) in zip(axes, panels.items(), strict=False):
        for placement, group in rows.groupby("placement"):
            positive = group[group[column] > 0]
            if positive.empty:
                continue
            slope = scaling_slope(group, column)
            (line,) = ax.plot(
                positive["tokens"], positive[column], marker="o", ls="-" if slope == slope else ":",
                label=slope_label(placement, slope),
            )  # fmt: skip
            floor = positive[~above_floor(positive, column)]  # drawn hollow: not fitted
            ax.plot(floor["tokens"], floor[column], "o", mfc="white", color=line.get_color())
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PLAIN if column != "attention_macs" else LogFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("attention tokens N")
        ax.set_ylabel(label)
        if lines > 2:  # several arms: the legend goes under the panel, off the lines
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.32))
        else:
            ax.legend(fontsize=6)
    if not panels:
        axes[0].axis("off")
    device = scaling["device"].iloc[0]
    title = f"Attention cost vs tokens N, {device} (log-log; slope 2 = O(N²), 1 = O(N))"
    if noise:
        title += f"\nno overhead above measurement noise: {', '.join(noise)}"
    if any(
        "no slope" in t.get_text()
        for ax in axes
        if ax.get_legend()
        for t in ax.get_legend().get_texts()
    ):
        title += f"\nno slope: {NO_SLOPE.removesuffix(', no slope')} (hollow: at the floor)"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def write_cost_figures(
    profile: pd.DataFrame | None,
    scaling: pd.DataFrame | None,
    out: str | Path,
    colors: dict[str, str] | None = None,
) -> list[Path]:
    """``step_overhead`` from the step profiles and ``cost_scaling`` from the scaling sweep,
    each where its table is given, into ``out``: the one writer of the cost figures, for the
    workflow's rule (``sagan cost-figures``) and for ``sagan report --parts cost-figures``;
    an older version's tables are upgraded when read (``upgrade_arm_columns``)."""
    from sagan.report.figures import save_figure

    paths = []
    if profile is not None:
        paths += save_figure(step_overhead(profile, colors), Path(out) / "step_overhead")
    if scaling is not None:
        paths += save_figure(cost_scaling(scaling), Path(out) / "cost_scaling")
    return paths
