"""Cost figures: step-time overhead per variant and precision, and attention cost vs tokens N
on log-log axes with fitted slopes (2 = quadratic in N)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, LogFormatter, NullFormatter

from sagan.cost.profile import loglog_slope
from sagan.report.figures import TWO_COLUMN_WIDTH, paper_theme


def step_overhead(profile: pd.DataFrame) -> plt.Figure:
    """ms per training step of each variant, one bar per precision, one panel per dataset;
    the label on a bar is its ratio to the baseline variant in the same precision."""
    paper_theme()
    datasets = list(dict.fromkeys(profile["dataset"]))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(TWO_COLUMN_WIDTH, 2.6), squeeze=False, sharey=True
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = profile[profile["dataset"] == dataset].copy()
        base = rows[rows["variant"] == rows["baseline"].iloc[0]].set_index("precision")
        rows["overhead"] = rows["ms_per_step"] / rows["precision"].map(base["ms_per_step"])
        sns.barplot(
            rows, x="variant", y="ms_per_step", hue="precision", ax=ax, legend=ax is axes[0][0]
        )
        for container, (_, group) in zip(
            ax.containers, rows.groupby("precision", sort=False), strict=False
        ):
            ratios = [f"{v:.2f}x" for v in group["overhead"]]
            ax.bar_label(container, labels=ratios, fontsize=6, rotation=90, padding=2)
        ax.set_title(f"{dataset} ({rows['resolution'].iloc[0]} px, batch {rows['batch'].iloc[0]})")
        ax.set_xlabel("")
        ax.set_ylabel("ms per training step (D + G)")
        ax.tick_params(axis="x", rotation=30)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.2)  # headroom for the ratio labels
    legend = axes[0][0].get_legend()
    if legend is not None:
        sns.move_legend(axes[0][0], "upper left", bbox_to_anchor=(0, -0.32), ncol=3, title=None)
    device = profile["device"].iloc[0]
    fig.suptitle(f"Training-step cost on {device} (labels: x the baseline, same precision)", y=1.02)
    return fig


SCALING_PANELS = {
    "overhead_ms": "ms / step over baseline",
    "attention_macs": "attention MACs / image",
    "overhead_mem_mib": "MiB over baseline",
}
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")


def cost_scaling(scaling: pd.DataFrame) -> plt.Figure:
    """Attention cost against tokens N, one line per placement, fitted log-log slope in the
    legend; points at or below zero (noise in a small overhead) cannot sit on a log axis."""
    paper_theme()
    rows = scaling[scaling["tokens"] > 0].copy()
    rows["placement"] = "side / " + (rows["resolution"] // rows["attention_side"]).astype(str)
    fig, axes = plt.subplots(1, len(SCALING_PANELS), figsize=(TWO_COLUMN_WIDTH, 2.6))
    for ax, (column, label) in zip(axes, SCALING_PANELS.items(), strict=True):
        for placement, group in rows.groupby("placement"):
            slope = loglog_slope(group["tokens"].tolist(), group[column].tolist())
            positive = group[group[column] > 0]
            ax.plot(
                positive["tokens"],
                positive[column],
                marker="o",
                label=f"{placement}: slope {slope:.2f}",
            )
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(PLAIN)
        if (rows[column] > 0).any():
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(PLAIN if column != "attention_macs" else LogFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
        else:
            ax.text(
                0.5,
                0.5,
                "no overhead above\nmeasurement noise",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=7,
            )
        ax.set_xlabel("attention tokens N")
        ax.set_ylabel(label)
        ax.legend(fontsize=6)
    device = scaling["device"].iloc[0]
    fig.suptitle(f"Attention cost vs tokens N, {device} (log-log; slope 2 = O(N²))")
    fig.tight_layout()
    return fig
