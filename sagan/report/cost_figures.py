"""Cost figures: step-time overhead per variant and precision, and attention cost vs tokens N
on log-log axes with fitted slopes (2 = quadratic in N)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogFormatter, NullFormatter, NullLocator

from sagan.cost.profile import loglog_slope
from sagan.report.figures import paper_theme
from sagan.report.panels import panel_grid


def step_overhead(profile: pd.DataFrame) -> plt.Figure:
    """ms per training step of each variant, one bar per precision, one panel per dataset;
    the label on a bar is its ratio to the baseline variant in the same precision."""
    paper_theme()
    datasets = list(dict.fromkeys(profile["dataset"]))
    # no shared y axis: one dataset's step can cost 10x another's
    fig, (axes,) = panel_grid([len(datasets)], row_height=2.6, top=0.4)
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = profile[profile["dataset"] == dataset].copy()
        base = rows[rows["variant"] == rows["baseline"].iloc[0]].set_index("precision")
        rows["overhead"] = rows["ms_per_step"] / rows["precision"].map(base["ms_per_step"])
        sns.barplot(
            rows, x="variant", y="ms_per_step", hue="precision", ax=ax, legend=ax is axes[0]
        )
        for container, (_, group) in zip(
            ax.containers, rows.groupby("precision", sort=False), strict=False
        ):
            _spread_whiskers(ax, container, group)
            loaded = group["loaded"].fillna(False).astype(bool) if "loaded" in group else None
            ratios = [
                f"{v:.2f}x" + ("†" if loaded is not None and loaded.iloc[i] else "")
                for i, v in enumerate(group["overhead"])
            ]
            # inside the bar: above it sit the IQR whiskers
            ax.bar_label(
                container,
                labels=ratios,
                fontsize=6,
                rotation=90,
                label_type="center",
                color="white",
            )
        ax.set_title(
            f"{dataset} ({rows['resolution'].iloc[0]} px, batch {rows['batch'].iloc[0]})",
            fontsize=8,
        )
        first = ax.get_subplotspec().is_first_col()
        ax.set(xlabel="", ylabel="ms per training step (D + G)" if first else "")
        ax.tick_params(axis="x", rotation=30)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.2)  # headroom for the ratio labels
    handles, labels = axes[0].get_legend_handles_labels()
    if axes[0].get_legend() is not None:
        axes[0].get_legend().remove()
    height = fig.get_figheight()
    title = fig.suptitle(
        f"Training-step cost on {profile['device'].iloc[0]} (labels: x the baseline, same "
        f"precision{_spread_note(profile)})", fontsize=9, y=1 - 0.04 / height,
    )  # fmt: skip
    fig.legend(
        handles, labels, loc="upper center", ncol=len(labels), frameon=False, fontsize=7,
        bbox_to_anchor=(0.5, 1 - 0.2 / height),
    )  # fmt: skip
    title.set_in_layout(False)  # the rect keeps its room; the saved crop keeps it
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / height))
    title.set_in_layout(True)
    return fig


def _spread_whiskers(ax: plt.Axes, container, group: pd.DataFrame) -> None:
    """Whiskers from the 25th to the 75th percentile of the interleaved repeats, where the
    profile has them: one median hides a step time that jumped while the machine was busy."""
    if not {"ms_q25", "ms_q75"} <= set(group):
        return
    x = [bar.get_x() + bar.get_width() / 2 for bar in container]
    mid = group["ms_per_step"].to_numpy()
    below = (mid - group["ms_q25"].to_numpy()).clip(min=0)
    above = (group["ms_q75"].to_numpy() - mid).clip(min=0)
    ax.errorbar(x, mid, yerr=[below, above], fmt="none", ecolor="0.2", elinewidth=0.8, capsize=2)


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


def slope_label(placement: str, slope: float, sizes: int) -> str:
    """The legend entry of one fitted line; no 'slope nan' where there is nothing to fit."""
    if math.isfinite(slope):
        return f"{placement}: slope {slope:.2f}"
    return f"{placement}: one size, no slope" if sizes == 1 else placement


def cost_scaling(scaling: pd.DataFrame) -> plt.Figure:
    """Attention cost against tokens N, one line per placement, fitted log-log slope in the
    legend; points at or below zero (noise in a small overhead) cannot sit on a log axis, and
    a cost with none above zero gets no panel, only a word in the title."""
    paper_theme()
    rows = scaling[scaling["tokens"] > 0].copy()
    rows["placement"] = "side / " + (rows["resolution"] // rows["attention_side"]).astype(str)
    if "variant" in rows and rows["variant"].nunique() > 1:  # one line per variant and side
        rows["placement"] = rows["variant"] + ", " + rows["placement"]
    panels = {c: name for c, name in SCALING_PANELS.items() if (rows[c] > 0).any()}
    noise = [name for c, name in SCALING_PANELS.items() if c not in panels]
    lines = rows["placement"].nunique()
    fig, (axes,) = panel_grid([max(len(panels), 1)], row_height=2.6 + 0.45 * max(lines - 2, 0))
    for ax, (column, label) in zip(axes, panels.items(), strict=False):
        for placement, group in rows.groupby("placement"):
            slope = loglog_slope(group["tokens"].tolist(), group[column].tolist())
            positive = group[group[column] > 0]
            if positive.empty:
                continue
            ax.plot(
                positive["tokens"],
                positive[column],
                marker="o",
                label=slope_label(placement, slope, positive["tokens"].nunique()),
            )
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(PLAIN if column != "attention_macs" else LogFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("attention tokens N")
        ax.set_ylabel(label)
        if lines > 2:  # several variants: the legend goes under the panel, off the lines
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.32))
        else:
            ax.legend(fontsize=6)
    if not panels:
        axes[0].axis("off")
    device = scaling["device"].iloc[0]
    title = f"Attention cost vs tokens N, {device} (log-log; slope 2 = O(N²), 1 = O(N))"
    if noise:
        title += f"\nno overhead above measurement noise: {', '.join(noise)}"
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def write_cost_figures(
    profile: pd.DataFrame | None, scaling: pd.DataFrame | None, out: str | Path
) -> list[Path]:
    """``step_overhead`` from the step profiles and ``cost_scaling`` from the scaling sweep,
    each where its table is given, into ``out``: the one writer of the cost figures, for the
    workflow's rule (``sagan cost-figures``) and for ``sagan report --parts cost-figures``."""
    from sagan.report.figures import save_figure

    paths = []
    if profile is not None:
        paths += save_figure(step_overhead(profile), Path(out) / "step_overhead")
    if scaling is not None:
        paths += save_figure(cost_scaling(scaling), Path(out) / "cost_scaling")
    return paths
