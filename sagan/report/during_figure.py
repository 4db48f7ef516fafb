"""FD scored while training (``evaluation.during``) against iterations and against training
seconds: the curves claim 7 (progressive growing speeds convergence) is read from."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sagan.report.figures import TWO_COLUMN_WIDTH, metric_label, paper_theme
from sagan.report.panels import errorbar, seed_note

PREFIX = "during_"  # the training log's columns of FD scored while training


def during_columns(logs: pd.DataFrame | None) -> list[str]:
    """The log's during-training FD columns that hold a value (none: no figure to draw)."""
    if logs is None:
        return []
    return [c for c in logs.columns if c.startswith(PREFIX) and logs[c].notna().any()]


def fd_during(logs: pd.DataFrame) -> plt.Figure | None:
    """A row per dataset (its largest size): FD against iteration, with the seeds as a 95% CI
    band, and against seconds, a thin line per seed (seeds differ in their seconds)."""
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
    hue_order = sorted(scored["variant"].unique())
    cell = ["dataset", "variant", "iteration"]
    for (by_it, by_s), dataset in zip(axes, datasets, strict=True):
        rows = scored[scored["dataset"] == dataset]
        size = max(rows["size"].unique(), key=lambda s: float("inf") if s == "full" else float(s))
        rows = rows[rows["size"] == size]
        sns.lineplot(
            rows, x="iteration", y=column, hue="variant", hue_order=hue_order, marker="o",
            errorbar=errorbar(rows, cell), ax=by_it, legend=by_it is axes[0][0],
        )  # fmt: skip
        sns.lineplot(
            rows, x="seconds", y=column, hue="variant", hue_order=hue_order, units="seed",
            estimator=None, marker="o", linewidth=0.8, ax=by_s, legend=False,
        )  # fmt: skip
        label = metric_label(column.removeprefix(PREFIX))
        by_it.set(xlabel="iteration", ylabel=f"{dataset}, n={size}\n{label}")
        by_s.set(xlabel="training seconds", ylabel="")
        if by_it is axes[0][0]:
            by_it.set_title("at equal iterations", fontsize=8)
            by_s.set_title("at equal training time (a line per seed)", fontsize=8)
    height = fig.get_figheight()
    legend = axes[0][0].get_legend()
    if legend is not None:  # one legend for all panels, under the title
        handles, labels = axes[0][0].get_legend_handles_labels()
        legend.remove()
        fig.legend(
            handles, labels, loc="upper center", ncol=len(labels), frameon=False, fontsize=7,
            bbox_to_anchor=(0.5, 1 - 0.2 / height),
        )  # fmt: skip
    note = seed_note(scored, cell, "95% CI")
    title = fig.suptitle(f"FD while training ({note})", fontsize=9, y=1 - 0.04 / height)
    title.set_in_layout(False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))
    title.set_in_layout(True)
    return fig
