"""Figures from the tidy summary table: one paper theme, colour-blind palette, PNG + PDF."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sagan.errors import DataError, first_line
from sagan.io import atomic_write_bytes
from sagan.metrics.declared import better, resolve
from sagan.report.panels import (
    SAVE_DPI,
    colors_for,
    errorbar,
    floor_band,
    floor_of,
    keep_above,
    panel_grid,
    panel_width,
    reference_lines,
    seed_note,
    size_axis,
    untangle_ticks,
)
from sagan.report.panels import (
    TWO_COLUMN_WIDTH as TWO_COLUMN_WIDTH,  # figures' one page width, shared
)
from sagan.report.point_ranges import arm_handles, line_series, lines_or_ranges
from sagan.report.stats import lower_bound
from sagan.run_folder import SAMPLES


def paper_theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """``stem``.png (200 dpi) and ``stem``.pdf, each written atomically, with any overlapping
    tick labels rotated or thinned first."""
    untangle_ticks(fig)
    paths = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=SAVE_DPI, bbox_inches="tight")
        path = Path(f"{stem}.{ext}")
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


PROBE_METRICS = {
    "mirror_error": "mirror error",
    "pairs_agreement": "pair agreement",
    "temporal_consistency": "temporal consistency",  # video
    "motion_smoothness": "motion smoothness",
}
VIDEO_LABELS = {
    "fd_frame_domain": "FD per frame (domain)",
    "fd_video_domain3d": "FD video (3D)",
}
# the pairs probe against each run's own independence baseline: drawn in probe_coherence
# only, not as panels of their own in quality_vs_size
DEPENDENCE_LABELS = {
    "pairs_independence_baseline": "own independence baseline",
    "pairs_excess_agreement": "excess agreement",  # agreement minus its own baseline
    "pairs_mutual_information": "MI (bits)",  # between left and right classes
}


def metric_label(metric: str) -> str:
    """An axis label with the metric's declared better side as an arrow."""
    arrow = {"lower": " ↓", "higher": " ↑"}.get(better(metric) or "", "")
    labels = {**PROBE_METRICS, **VIDEO_LABELS, **DEPENDENCE_LABELS}
    if metric in labels:
        return labels[metric] + arrow
    if metric in ("fid", "kid"):
        return metric.upper() + arrow
    name, extractor = metric.split("_", 1)
    return f"{name.upper()} ({extractor}){arrow}"


SEED_CELL = ["dataset", "arm", "train_images"]


def _versus_size(
    ax: plt.Axes,
    runs: pd.DataFrame,
    metric: str,
    colors: dict[str, str],
    floor: tuple[float, float] | None = None,
) -> None:
    """Per arm, the mean over seeds against training-set size: a line with its 95% CI band
    from three sizes on, else point-ranges (mean, 95% CI whisker, seeds as dots); on a log
    size axis ticked at the sizes; a probe score with its real and chance lines; FD/KID with
    their real-vs-real ``floor`` (mean, SD) as a band. An FD's interval and axis stop at 0."""
    lower = lower_bound(metric)
    long = set(line_series(runs[runs[metric].notna()], "train_images", "arm"))
    lines_or_ranges(
        ax, runs, x="train_images", y=metric, hue="arm", colors=colors, cell=SEED_CELL,
        lower=lower, log_x=True,
    )  # fmt: skip
    if long:  # the lines' seeds as dots (point-ranges draw their own)
        dots = runs[runs["arm"].isin(long)]
        sns.scatterplot(
            dots, x="train_images", y=metric, hue="arm", alpha=0.4, s=12, ax=ax,
            legend=False, palette=colors,
        )  # fmt: skip
    if metric in PROBE_METRICS:
        reference_lines(ax, runs, metric)
    if floor is not None:
        floor_band(ax, *floor)
    size_axis(ax, runs["train_images"].unique())
    keep_above(ax, lower)
    ax.set_xlabel("training images")
    ax.set_ylabel(metric_label(metric))


def quality_vs_size(
    df: pd.DataFrame, floor: pd.DataFrame | None = None, colors: dict[str, str] | None = None
) -> plt.Figure:
    """Per dataset (a block of rows, at most three panels wide): FD, KID and any probe score
    against training-set size per arm, then training throughput per arm; with
    ``floor`` (the study's noise_floor.csv), each FD/KID's real-vs-real floor as a band.
    ``colors``: the report's colour per arm (``panels.arm_colors``)."""
    paper_theme()
    done = df[df["status"] == "done"]
    datasets = sorted(done["dataset"].unique())
    arms = sorted(done["arm"].unique())
    per_row = {d: _row_metrics(df, done[done["dataset"] == d]) for d in datasets}
    fig, blocks = panel_grid([len(per_row[d]) + 1 for d in datasets], row_height=2.3, top=0.4)
    palette = colors_for(arms, colors)
    for axes, dataset in zip(blocks, datasets, strict=True):
        runs = done[done["dataset"] == dataset]
        for i, metric in enumerate(per_row[dataset]):
            band = floor_of(floor, dataset, metric)
            _versus_size(axes[i], runs, metric, palette, floor=band)
        mine = [v for v in arms if v in set(runs["arm"])]
        sns.barplot(
            runs,
            y="arm",
            x="it_per_s",
            hue="arm",
            order=mine,
            hue_order=mine,
            palette=palette,
            errorbar=errorbar(runs, ["arm"]),
            ax=axes[-1],
        )
        axes[-1].set(xlabel="training it/s ↑", ylabel="")
        axes[0].set_title(dataset, loc="left", fontsize=9, fontweight="bold")
    labels = [v for v in arms if v in palette]
    handles = arm_handles(labels, palette)
    note = seed_note(done, SEED_CELL, "95% CI")
    title = fig.suptitle(
        f"{', '.join(done['study'].unique())}: quality vs data size, and speed ({note})",
        fontsize=9,
        y=1 - 0.04 / fig.get_figheight(),
    )
    top = 1 - 0.4 / fig.get_figheight()  # inches: the title, then the legend under it
    title.set_in_layout(False)  # the rect keeps its room; the saved crop keeps it
    fig.tight_layout(rect=(0, 0, 1, top))
    title.set_in_layout(True)
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=len(labels),
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.2 / fig.get_figheight()),
        fontsize=7,
    )
    return fig


def _headline(column: str) -> bool:
    """FD of any extractor (video: per frame and per clip) and the KID of images; not their
    train/gap/std forms (by the metric's declaration)."""
    m = resolve(column)
    return m is not None and (
        m.declaration.key == "fd" or (m.declaration.key == "kid" and m.on_images)
    )


def _row_metrics(df: pd.DataFrame, runs: pd.DataFrame) -> list[str]:
    """The headline FD/FID and KID columns, and the probe scores, this dataset has values for."""
    return [c for c in df.columns if (_headline(c) or c in PROBE_METRICS) and runs[c].notna().any()]


REAL_PANEL = None  # the real images' panel in a dataset's row of sample grids


def sample_grids(
    df: pd.DataFrame, real: dict[str, tuple[np.ndarray, str]] | None = None
) -> plt.Figure:
    """Final sample grids: a block of rows per dataset, a panel per arm (largest size,
    first seed), each grid upscaled by an integer factor, nearest neighbour, so a 32 px
    sample shows its own pixels instead of a blur. ``real``: per dataset, a grid of real
    images and its split ("held-out" or "train"), drawn first in its dataset's row."""
    paper_theme()
    real = real or {}
    done = df[df["status"] == "done"].sort_values(["train_images", "seed"], ascending=[False, True])
    picks = done.groupby(["dataset", "arm"], sort=True).head(1)
    datasets = sorted(picks["dataset"].unique())
    columns = {d: sorted(picks.loc[picks["dataset"] == d, "arm"]) for d in datasets}
    grids = {
        (run["dataset"], run["arm"]): read_sample_grid(Path(run["run_dir"]) / SAMPLES)
        for _, run in picks.iterrows()
    }
    # a row per dataset: its real images first (where given), then its arms beside them
    rows = [([REAL_PANEL] if d in real else []) + columns[d] for d in datasets]
    width = panel_width([len(r) for r in rows])
    aspect = max(g.shape[0] / g.shape[1] for g in grids.values())
    fig, axes_of = panel_grid([len(r) for r in rows], row_height=width * aspect + 0.4)
    for axes, dataset, arms in zip(axes_of, datasets, rows, strict=True):
        for ax, arm in zip(axes, arms, strict=True):
            if arm is REAL_PANEL:
                grid, split = real[dataset]
                title = f"{dataset} · real ({split})"
            else:
                run = picks[(picks["dataset"] == dataset) & (picks["arm"] == arm)]
                run, grid = run.iloc[0], grids[(dataset, arm)]
                title = f"{dataset} · {arm}\nn={run['size']}, seed {run['seed']}"
            factor = max(1, int(width * SAVE_DPI // grid.shape[1]))
            ax.imshow(
                upscale(grid, factor),
                cmap="gray" if grid.ndim == 2 else None,  # grey PNGs load as 2-D
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            ax.axis("off")
            ax.set_title(title, fontsize=7)
    fig.tight_layout()
    return fig


def read_sample_grid(path: Path) -> np.ndarray:
    """A run's samples.png as plt.imread gives it; a damaged one is named with its fix."""
    try:
        return plt.imread(path)
    except (OSError, ValueError, SyntaxError) as err:  # PIL's UnidentifiedImageError is OSError
        raise DataError(
            f"sample grid {path} is unreadable ({first_line(err)}): delete it and run"
            " `snakemake` again; a finished run writes it anew from its state without training"
        ) from err


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel as a ``factor`` x ``factor`` block: (H, W[, C]) -> (H*f, W*f[, C])."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)
