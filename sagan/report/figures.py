"""Figures from the tidy summary table: one paper theme, colour-blind palette, PNG + PDF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sagan.io import atomic_write_bytes

TWO_COLUMN_WIDTH = 7.0  # inches: a full-width figure in a two-column paper


def paper_theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """``stem``.png (200 dpi) and ``stem``.pdf, each written atomically."""
    paths = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=200, bbox_inches="tight")
        path = Path(f"{stem}.{ext}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


PROBE_METRICS = {
    "mirror_error": "mirror error ↓",
    "pairs_agreement": "pair agreement ↑",
    "temporal_consistency": "temporal consistency ↑",  # video
    "motion_smoothness": "motion smoothness ↑",
}
VIDEO_LABELS = {
    "fd_frame_domain": "FD per frame (domain) ↓",
    "fd_video_domain3d": "FD video (3D) ↓",
}


def metric_label(metric: str) -> str:
    if metric in PROBE_METRICS or metric in VIDEO_LABELS:
        return {**PROBE_METRICS, **VIDEO_LABELS}[metric]
    if metric in ("fid", "kid"):
        return f"{metric.upper()} ↓"
    name, extractor = metric.split("_", 1)
    return f"{name.upper()} ({extractor}) ↓"


def _versus_size(
    ax: plt.Axes, runs: pd.DataFrame, metric: str, legend: bool, palette: dict | None = None
) -> None:
    """Mean over seeds with a 95% CI band, each seed as a dot, on a log size axis."""
    sns.lineplot(
        runs,
        x="train_images",
        y=metric,
        hue="variant",
        marker="o",
        errorbar=("ci", 95),
        ax=ax,
        legend=legend,
        palette=palette,
    )
    sns.scatterplot(
        runs,
        x="train_images",
        y=metric,
        hue="variant",
        alpha=0.4,
        s=12,
        ax=ax,
        legend=False,
        palette=palette,
    )
    ax.set_xscale("log")
    sizes = sorted(runs["train_images"].unique())
    ax.set_xticks(sizes, [str(int(n)) for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training images")
    ax.set_ylabel(metric_label(metric))


def quality_vs_size(df: pd.DataFrame) -> plt.Figure:
    """Per dataset (a row): FD, KID and any probe score against training-set size per
    variant, then training throughput per variant."""
    paper_theme()
    done = df[df["status"] == "done"]
    datasets = sorted(done["dataset"].unique())
    variants = sorted(done["variant"].unique())
    per_row = {d: _row_metrics(df, done[done["dataset"] == d]) for d in datasets}
    ncols = max(len(m) for m in per_row.values()) + 1
    size = (TWO_COLUMN_WIDTH, 2.2 * len(datasets))
    fig, axes = plt.subplots(len(datasets), ncols, figsize=size, squeeze=False)
    palette = dict(zip(variants, sns.color_palette(n_colors=len(variants)), strict=True))
    for r, dataset in enumerate(datasets):
        runs = done[done["dataset"] == dataset]
        for i, metric in enumerate(per_row[dataset]):
            _versus_size(axes[r][i], runs, metric, legend=i == 0, palette=palette)
        for ax in axes[r][len(per_row[dataset]) : -1]:
            ax.axis("off")
        mine = [v for v in variants if v in set(runs["variant"])]
        sns.barplot(
            runs,
            y="variant",
            x="it_per_s",
            hue="variant",
            order=mine,
            hue_order=mine,
            palette=palette,
            errorbar=("ci", 95),
            ax=axes[r][-1],
        )
        axes[r][-1].set(xlabel="training it/s ↑", ylabel="")
        axes[r][0].set_title(dataset, loc="left", fontsize=9, fontweight="bold")
    legend = {}  # every variant once, from whichever row draws it
    for row in axes:
        for handle, label in zip(*row[0].get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
        if row[0].get_legend():
            row[0].get_legend().remove()
    handles, labels = list(legend.values()), list(legend)
    fig.suptitle(
        f"{', '.join(done['study'].unique())}: quality vs data size, and speed", fontsize=9
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=len(labels),
        frameon=False,
        bbox_to_anchor=(0.5, 0.96),
        fontsize=7,
    )
    return fig


# not *_train, *_gap, *_std; video: FD per frame and per clip
HEADLINE = re.compile(r"^(fid|kid|fd_[a-z0-9]+|kid_[a-z0-9]+|fd_frame_domain|fd_video_domain3d)$")


def _row_metrics(df: pd.DataFrame, runs: pd.DataFrame) -> list[str]:
    """The headline FD/FID and KID columns, and the probe scores, this dataset has values for."""
    return [
        c for c in df.columns if (HEADLINE.match(c) or c in PROBE_METRICS) and runs[c].notna().any()
    ]


def sample_grids(df: pd.DataFrame) -> plt.Figure:
    """Final sample grids: a row per dataset, a column per variant (largest size, first seed)."""
    paper_theme()
    done = df[df["status"] == "done"].sort_values(["train_images", "seed"], ascending=[False, True])
    picks = done.groupby(["dataset", "variant"], sort=True).head(1)
    datasets = sorted(picks["dataset"].unique())
    columns = {d: sorted(picks.loc[picks["dataset"] == d, "variant"]) for d in datasets}
    fig, axes = plt.subplots(
        len(datasets),
        max(len(v) for v in columns.values()),
        squeeze=False,
        figsize=(TWO_COLUMN_WIDTH, 1.6 * len(datasets) + 0.4),
    )
    for ax in axes.flat:
        ax.axis("off")
    for _, run in picks.iterrows():
        ax = axes[datasets.index(run["dataset"])][columns[run["dataset"]].index(run["variant"])]
        grid = plt.imread(Path(run["run_dir"]) / "samples.png")
        ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None)  # grey PNGs load as 2-D
        ax.set_title(
            f"{run['dataset']} · {run['variant']}\nn={run['size']}, seed {run['seed']}", fontsize=6
        )
    fig.tight_layout()
    return fig
