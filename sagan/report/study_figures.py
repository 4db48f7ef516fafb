"""Study figures beyond quality-vs-size: training curves over iterations, the quality-cost
Pareto plot and the structure-probe coherence per arm. Drawn from the aggregate tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from sagan.report.figures import TWO_COLUMN_WIDTH, metric_label, paper_theme
from sagan.report.panels import (
    bars_by_arm,
    colors_for,
    errorbar,
    keep_above,
    panel_grid,
    reference_lines,
    seed_note,
)
from sagan.report.paper_tables import cost_rows, headline
from sagan.report.point_ranges import arm_handles, lines_or_ranges
from sagan.report.stats import lower_bound

CURVES = {
    "r_t": "r_t ↑ = D overfits",
    "d_gap": "D(train) − D(held-out)",
    "loss_d": "D loss",
    "loss_g": "G loss",
}
DURING = "during_"  # the log's FD-while-training columns (sagan.metrics.during)
GAMMA = ("gamma:G.", "gamma:D.")  # the log's attention gates, one column per block


def training_curves(
    logs: pd.DataFrame, columns: dict[str, str] = CURVES, colors: dict[str, str] | None = None
) -> plt.Figure:
    """Per dataset (a block of rows, at most three panels wide, at its largest size): FD
    scored while training (the convergence criterion reads it), each signal it logged, and
    every attention gate gamma of G and of D (one panel, a line style per block), against
    iteration; a line per arm with the seeds as a 95% CI band (none for one seed), or
    point-ranges where an arm has fewer than three iterations. ``colors``: the report's
    colour per arm (``panels.arm_colors``)."""
    paper_theme()
    datasets = sorted(logs["dataset"].unique())
    sizes = logs.groupby("dataset")["size"].agg(lambda s: _largest(s.unique()))
    rows = {d: logs[(logs["dataset"] == d) & (logs["size"] == sizes[d])] for d in datasets}
    panels = {d: _curve_panels(rows[d], columns) for d in datasets}
    datasets = [d for d in datasets if panels[d]]  # a dataset with no signal: no empty row
    fig, blocks = panel_grid([len(panels[d]) for d in datasets], row_height=1.9, top=0.4)
    hue_order = sorted(logs["arm"].unique())
    palette = colors_for(hue_order, colors)
    cell = ["dataset", "arm", "iteration"]
    for axes, dataset in zip(blocks, datasets, strict=True):
        for ax, (title, long, style, sparse, lower) in zip(axes, panels[dataset], strict=True):
            if style:
                sns.lineplot(
                    long, x="iteration", y="value", hue="arm", hue_order=hue_order,
                    palette=palette, style=style, errorbar=errorbar(long, [*cell, style], lower),
                    ax=ax, legend="auto",
                )  # fmt: skip
                keep_above(ax, lower)
                _block_legend(ax, long[style])  # which line is which block
            else:
                lines_or_ranges(
                    ax, long, x="iteration", y="value", hue="arm", colors=palette,
                    cell=cell, lower=lower, marker="o" if sparse else None,
                )  # fmt: skip
            ax.set(xlabel="iteration", ylabel="")
            ax.set_xlim(left=0)  # sparse FD points start later: the panels' axes still align
            ax.set_title(title, fontsize=8)
        for ax in axes:  # the first panel of each of the block's rows names the dataset
            if ax.get_subplotspec().is_first_col():
                ax.set_ylabel(f"{dataset}, n={sizes[dataset]}", fontsize=8, fontweight="bold")
    _legend_on_top(fig, arm_handles(hue_order, palette))
    used = pd.concat(rows[d] for d in datasets)
    note = seed_note(used, cell, "95% CI")
    title = fig.suptitle(
        f"Training signals per iteration ({note})", fontsize=9, y=1 - 0.04 / fig.get_figheight()
    )
    title.set_in_layout(False)  # the rect keeps its room; the saved crop keeps it
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))
    title.set_in_layout(True)
    return fig


def _curve_panels(rows: pd.DataFrame, columns: dict[str, str]) -> list[tuple]:
    """(title, long rows with a ``value`` column, style column or None, whether its points
    are sparse and get markers, the lowest value it can take or None) per panel that has
    values: FD while training first, the logged signals, then G's and D's gammas."""
    ids = ["dataset", "arm", "size", "seed", "iteration"]
    panels = []
    for column in [c for c in rows if c.startswith(DURING)][:1]:
        scored = rows[rows[column].notna()]
        if len(scored):
            label = metric_label(column.removeprefix(DURING))
            scored = scored.assign(value=scored[column])
            lower = lower_bound(column.removeprefix(DURING))
            panels.append((f"{label} while training", scored, None, True, lower))
    for column, title in columns.items():
        if column in rows and rows[column].notna().any():
            panels.append((title, rows.assign(value=rows[column]), None, False, None))
    gates = [c for c in rows if c.startswith(GAMMA) and rows[c].notna().any()]
    if gates:  # one panel: G's and D's gates apart by line style, so a row holds six panels
        long = rows.melt(ids, gates, var_name="block", value_name="value")
        # |gamma|: how far the gate has opened; seeds open it to either sign, so a mean of
        # signed gates sits near 0 however open they are
        long = long.dropna(subset=["value"]).assign(value=lambda d: d["value"].abs())
        long["block"] = long["block"].str.removeprefix("gamma:").str.replace(".", " ", n=1)
        style = "block" if long["block"].nunique() > 1 else None
        panels.append(("attention gate |gamma|", long, style, False, 0.0))
    return panels


def _block_legend(ax: plt.Axes, blocks: pd.Series) -> None:
    """Only the line styles of the blocks (the arms' colours are the figure's legend)."""
    names = set(blocks)
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, label) for h, label in zip(handles, labels, strict=True) if label in names]
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.legend(*zip(*keep, strict=True), fontsize=6, frameon=False, loc="best")


def _largest(sizes) -> str:
    return max(sizes, key=lambda s: np.inf if s == "full" else float(s))


def _legend_on_top(fig: plt.Figure, handles: list) -> None:
    fig.legend(
        handles=handles, loc="upper center", ncol=len(handles), frameon=False, fontsize=7,
        bbox_to_anchor=(0.5, 1 - 0.2 / fig.get_figheight()),
    )  # fmt: skip


def pareto_front(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats in both (lower cost, lower quality value),
    ordered by cost."""
    order = np.argsort(cost, kind="stable")
    front, best = [], np.inf
    for i in order:
        if quality[i] < best:
            front.append(i)
            best = quality[i]
    return np.array(front, dtype=int)


def quality_cost_pareto(
    stats: pd.DataFrame,
    profile: pd.DataFrame,
    summary: pd.DataFrame,
    cost: str = "ms_per_step",
    colors: dict[str, str] | None = None,
) -> plt.Figure | None:
    """FD (mean, 95% CI) against the training-step cost per arm, one panel per dataset at
    its largest training set; the dashed line joins the Pareto-optimal arms. None when no
    image run has both an FD and a profiled cost (a video-only study)."""
    fd, _ = headline(summary)
    cells = stats[stats["metric"] == fd]
    cells = cells[
        cells["train_images"] == cells.groupby("dataset")["train_images"].transform("max")
    ]
    costs = cost_rows(profile)[["dataset", "arm", cost]]
    points = cells.merge(costs, on=["dataset", "arm"])
    if fd is None or points.empty:
        return None
    paper_theme()
    datasets = sorted(points["dataset"].unique())
    fig, (axes,) = panel_grid([len(datasets)], row_height=2.6)
    palette = colors_for(points["arm"].unique(), colors)
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = points[points["dataset"] == dataset].reset_index(drop=True)
        for _, p in rows.iterrows():
            err = np.array([[p["mean"] - p["ci_lo"]], [p["ci_hi"] - p["mean"]]])
            ax.errorbar(
                p[cost], p["mean"], yerr=None if np.isnan(err).any() else err, fmt="o",
                color=palette[p["arm"]], capsize=2, label=p["arm"],
            )  # fmt: skip
        front = rows.iloc[pareto_front(rows[cost].to_numpy(), rows["mean"].to_numpy())]
        ax.plot(front[cost], front["mean"], "--", color="0.4", lw=1, zorder=0, label="Pareto front")
        ax.set(xlabel=f"{'ms per training step' if cost == 'ms_per_step' else cost} ↓")
        ax.set_ylabel(metric_label(fd))
        keep_above(ax, lower_bound(fd))
        ax.set_title(f"{dataset}, n={rows['size'].iloc[0]}", loc="left", fontsize=8)
    seen: dict[str, object] = {}  # every panel's arms: a dataset may have arms of its own
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.legend(
        list(seen.values()), list(seen), loc="upper center", ncol=min(len(seen), 7),
        frameon=False, fontsize=7, bbox_to_anchor=(0.5, 1.02),
    )  # fmt: skip
    seeds = "one seed" if points["n"].max() <= 1 else "bars: 95% CI over seeds"
    fig.suptitle(f"Quality vs cost (lower-left is better; {seeds})", y=1.1, fontsize=9)
    fig.tight_layout()
    return fig


def _score_panel(
    ax: plt.Axes, rows: pd.DataFrame, metric: str, ylim: tuple, colors: dict[str, str]
) -> None:
    """One score per arm and size (mean, 95% CI when seeds allow, seeds as dots): a bar in
    the arm's colour, hatched by size, with the real held-out score and chance (where the
    metrics carry them) as reference lines."""
    order = sorted(rows["arm"].unique())
    hue_order = sorted(rows["size"].unique(), key=lambda s: np.inf if s == "full" else float(s))
    common = {"x": "arm", "y": metric, "hue": "size", "order": order, "hue_order": hue_order}
    cell = ["dataset", "arm", "size"]
    bars = errorbar(rows, cell, lower_bound(metric))
    sns.barplot(rows, **common, errorbar=bars, alpha=0.8, ax=ax, legend=False)
    sizes = bars_by_arm(ax, order, hue_order, colors)
    sns.stripplot(
        rows, **common, dodge=True, palette=["0.2"] * len(hue_order), size=2.5, legend=False, ax=ax
    )
    reference_lines(ax, rows, metric)
    ax.set(xlabel="", ylabel=metric_label(metric), ylim=ylim)
    ax.tick_params(axis="x", rotation=30)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    lines = [h for h in ax.get_legend_handles_labels()[0] if isinstance(h, Line2D)]
    ax.legend(handles=[*sizes, *lines], **SIZE_LEGEND)


SIZE_LEGEND = {
    "title": "training images", "fontsize": 6, "title_fontsize": 6, "loc": "upper left",
    "bbox_to_anchor": (1.0, 1.0), "frameon": False,
}  # fmt: skip


# the pairs probe against each run's own independence baseline (sagan.metrics.probes):
# panels beside the agreement, where the metrics carry them
BASELINE = "pairs_independence_baseline"
DEPENDENCE = ("pairs_excess_agreement", "pairs_mutual_information")
PANEL_TITLES = {
    "pairs_excess_agreement": "(b) above its own baseline?",
    "pairs_mutual_information": "(c) left-right information",
}


def probe_coherence(
    summary: pd.DataFrame, probe: str = "pairs_agreement", colors: dict[str, str] | None = None
) -> plt.Figure | None:
    """The probe's coherence score per arm and size (mean, 95% CI, seeds as dots), with the
    score of real held-out images and of chance as reference lines. On pairs, each run's own
    independence baseline is a bar beside its agreement (a collapsed G agrees by chance far
    above 1/9), and further panels show agreement minus that baseline and the mutual
    information of left and right classes, each with its real held-out level. None without
    probe runs."""
    if probe not in summary or summary[probe].notna().sum() == 0:
        return None
    paper_theme()
    rows = summary[summary[probe].notna() & (summary["status"] == "done")]
    extra = [m for m in DEPENDENCE if m in rows and rows[m].notna().any()]
    width = TWO_COLUMN_WIDTH / 2 if not extra else TWO_COLUMN_WIDTH
    fig, axes = plt.subplots(1, 1 + len(extra), figsize=(width, 2.6), squeeze=False)
    palette = colors_for(rows["arm"].unique(), colors)
    _score_panel(axes[0, 0], rows, probe, (0, 1.05), palette)
    if BASELINE in rows and rows[BASELINE].notna().any():
        _baseline_marks(axes[0, 0], rows, BASELINE)
    for ax, metric in zip(axes[0, 1:], extra, strict=True):
        real = rows.get(f"{metric}_real_heldout", pd.Series(dtype=float))
        low = min(0.0, float(rows[metric].min()))
        high = max(float(rows[metric].max()), float(real.max()) if real.notna().any() else 0.0)
        _score_panel(ax, rows, metric, (low - 0.05 * (high - low), 1.08 * high), palette)
        ax.set_title(PANEL_TITLES[metric], loc="left", fontsize=7)
    if extra:  # one legend of sizes, lines and marks (the first panel's), beside the last
        legends = [ax.get_legend() for ax in axes[0]]
        handles, labels = legends[0].legend_handles, [t.get_text() for t in legends[0].texts]
        for legend in legends:
            legend.remove()
        axes[0, -1].legend(handles, labels, **SIZE_LEGEND)
    note = seed_note(rows, ["dataset", "arm", "size"], "95% CI")
    what = f"Long-range coherence on the {probe.split('_')[0]} probe ({note})"
    if extra:
        axes[0, 0].set_title("(a) agreement, own baseline", loc="left", fontsize=7)
        fig.suptitle(what, fontsize=8)
    else:
        axes[0, 0].set_title(what.replace(" (", "\n("), fontsize=8)
    fig.tight_layout()
    return fig


def _baseline_marks(ax: plt.Axes, rows: pd.DataFrame, column: str) -> None:
    """Each run's own independence baseline as a black bar across its arm's and size's bar:
    the agreement that run would score with no dependence between its two objects."""
    xlabel, ylabel = ax.get_xlabel(), ax.get_ylabel()
    order = sorted(rows["arm"].unique())
    hue_order = sorted(rows["size"].unique(), key=lambda s: np.inf if s == "full" else float(s))
    sns.stripplot(
        rows, x="arm", y=column, hue="size", order=order, hue_order=hue_order, dodge=True,
        jitter=False, marker="_", size=9, linewidth=1.5, palette=["black"] * len(hue_order),
        legend=False, ax=ax,
    )  # fmt: skip
    ax.set(xlabel=xlabel, ylabel=ylabel)  # the agreement's, not the baseline column's
    legend = ax.get_legend()
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.texts]
    mark = Line2D([], [], marker="_", ls="", color="black", markersize=9, mew=1.5)
    ax.legend([*handles, mark], [*labels, "own baseline"], **SIZE_LEGEND)


TEMPORAL = ("temporal_consistency", "motion_smoothness")


def video_temporal(
    summary: pd.DataFrame, colors: dict[str, str] | None = None
) -> plt.Figure | None:
    """Temporal consistency and motion smoothness of each video arm (mean, 95% CI, seeds
    as dots) against real held-out clips. None without video runs."""
    if TEMPORAL[0] not in summary or summary[TEMPORAL[0]].notna().sum() == 0:
        return None
    paper_theme()
    rows = summary[summary[TEMPORAL[0]].notna() & (summary["status"] == "done")]
    fig, axes = plt.subplots(1, 2, figsize=(TWO_COLUMN_WIDTH, 2.4))
    palette = colors_for(rows["arm"].unique(), colors)
    for ax, metric in zip(axes, TEMPORAL, strict=True):
        low = min(0.0, float(rows[metric].min()) - 0.05)  # smoothness can dip below 0
        _score_panel(ax, rows, metric, (low, 1.05), palette)
    axes[0].get_legend().remove()
    fig.suptitle(
        f"Video ({', '.join(sorted(rows['dataset'].unique()))}): does the content stay, "
        f"and does it move smoothly? ({seed_note(rows, ['dataset', 'arm', 'size'])})",
        fontsize=8,
    )
    fig.tight_layout()
    return fig
