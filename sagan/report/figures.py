"""Figures from the tidy summary table: one paper theme, colour-blind palette, PNG + PDF."""

from __future__ import annotations

import io
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


def quality_vs_size(df: pd.DataFrame) -> plt.Figure:
    """FD / KID against training-set size per variant (mean over seeds, 95% CI, seed dots),
    beside training throughput."""
    paper_theme()
    done = df[df["status"] == "done"]
    metrics = [c for c in df.columns if c.startswith(("fd_", "kid_"))]
    fig, axes = plt.subplots(1, len(metrics) + 1, figsize=(TWO_COLUMN_WIDTH, 2.4))
    for ax, metric in zip(axes, metrics, strict=False):
        sns.lineplot(
            done,
            x="train_images",
            y=metric,
            hue="variant",
            marker="o",
            errorbar=("ci", 95),
            ax=ax,
            legend=ax is axes[0],
        )
        sns.scatterplot(
            done, x="train_images", y=metric, hue="variant", alpha=0.4, s=12, ax=ax, legend=False
        )
        ax.set_xscale("log")
        sizes = sorted(done["train_images"].unique())
        ax.set_xticks(sizes, [str(int(n)) for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("training images")
        name, extractor = metric.split("_", 1)
        ax.set_ylabel(f"{name.upper()} ({extractor}) ↓")
    sns.barplot(done, x="variant", y="it_per_s", hue="variant", errorbar=("ci", 95), ax=axes[-1])
    axes[-1].set_ylabel("training it/s ↑")
    axes[-1].set_xlabel("")
    if axes[0].get_legend():
        sns.move_legend(axes[0], "upper right", title=None, frameon=True)
    fig.suptitle(
        f"{', '.join(done['study'].unique())}: quality vs data size, and speed", fontsize=9
    )
    fig.tight_layout()
    return fig


def sample_grids(df: pd.DataFrame) -> plt.Figure:
    """The final sample grid of one run per variant (largest data size, first seed)."""
    paper_theme()
    done = df[df["status"] == "done"].sort_values(["train_images", "seed"], ascending=[False, True])
    picks = done.groupby("variant", sort=True).head(1).sort_values("variant")
    fig, axes = plt.subplots(1, len(picks), figsize=(TWO_COLUMN_WIDTH, 2.6), squeeze=False)
    for ax, (_, row) in zip(axes[0], picks.iterrows(), strict=True):
        ax.imshow(plt.imread(Path(row["run_dir"]) / "samples.png"))
        ax.set_title(f"{row['variant']} (n={row['size']}, seed {row['seed']})", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig
