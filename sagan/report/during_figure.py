"""FD scored while training (``evaluation.during``) against iterations and against training
seconds: the curves claim 7 (progressive growing speeds convergence) is read from."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sagan.report.figures import TWO_COLUMN_WIDTH, metric_label, paper_theme
from sagan.report.panels import colors_for, keep_above, seed_note
from sagan.report.point_ranges import arm_handles, lines_or_ranges
from sagan.report.stats import lower_bound

PREFIX = "during_"  # the training log's columns of FD scored while training


def during_columns(logs: pd.DataFrame | None) -> list[str]:
    """The log's during-training FD columns that hold a value (none: no figure to draw)."""
    if logs is None:
        return []
    return [c for c in logs.columns if c.startswith(PREFIX) and logs[c].notna().any()]


def fd_during(logs: pd.DataFrame, colors: dict[str, str] | None = None) -> plt.Figure | None:
    """A row per dataset (its largest size): FD against iteration, with the seeds as a 95% CI
    band (point-ranges below three scored iterations), and against seconds, a thin line per
    seed (seeds differ in their seconds). ``colors``: the report's colour per arm."""
    columns = during_columns(logs)
    if not columns:
        return None
    paper_theme()
    column = columns[0]
    scored = logs[logs[column].notna()]
    datasets = sorted(scored["dataset"].unique())
    fig, axes = plt.subplots(
        len(datasets), 2, figsize=(TWO_COLUMN_WIDTH, 0.4 + 2.1 * len(datasets)), squeeze=False
    )
    hue_order = sorted(scored["arm"].unique())
    palette = colors_for(hue_order, colors)
    lower = lower_bound(column.removeprefix(PREFIX))
    cell = ["dataset", "arm", "iteration"]
    for (by_it, by_s), dataset in zip(axes, datasets, strict=True):
        rows = scored[scored["dataset"] == dataset]
        size = max(rows["size"].unique(), key=lambda s: float("inf") if s == "full" else float(s))
        rows = rows[rows["size"] == size]
        lines_or_ranges(
            by_it, rows, x="iteration", y=column, hue="arm", colors=palette, cell=cell,
            lower=lower,
        )  # fmt: skip
        sns.lineplot(
            rows, x="seconds", y=column, hue="arm", hue_order=hue_order, palette=palette,
            units="seed", estimator=None, marker="o", linewidth=0.8, ax=by_s, legend=False,
        )  # fmt: skip
        keep_above(by_s, lower)
        label = metric_label(column.removeprefix(PREFIX))
        by_it.set(xlabel="iteration", ylabel=f"{dataset}, n={size}\n{label}")
        by_s.set(xlabel="training seconds", ylabel="")
        if by_it is axes[0][0]:
            by_it.set_title("at equal iterations", fontsize=8)
            by_s.set_title("at equal training time (a line per seed)", fontsize=8)
    height = fig.get_figheight()
    fig.legend(
        handles=arm_handles(hue_order, palette), loc="upper center", ncol=len(hue_order),
        frameon=False, fontsize=7, bbox_to_anchor=(0.5, 1 - 0.2 / height),
    )  # fmt: skip
    note = seed_note(scored, cell, "95% CI")
    title = fig.suptitle(f"FD while training ({note})", fontsize=9, y=1 - 0.04 / height)
    title.set_in_layout(False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    title.set_in_layout(True)
    return fig
