"""The noise floor in figures: a band on any FD/KID panel, and the extractor checks' figure
(degradations of real images ranked against the real-vs-real floor)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from sagan.metrics.extractor_checks import check_warnings
from sagan.report.panels import panel_grid

FLOOR_COLOR = "0.55"
STEP_NAMES = ["floor", "mild", "strong"]  # the x positions: expected_rank 0, 1, 2


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


def _panels(checks: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One panel per (extractor, rows): entries that share prepared data, extractor and
    sample count have identical checks and share a panel titled by all their names."""
    panels: dict[tuple, tuple[list[str], pd.DataFrame]] = {}
    for (dataset, _), rows in checks.groupby(["dataset", "extractor"], sort=False):
        values = rows.drop(columns="dataset").round(12)
        key = tuple(map(tuple, values.astype(str).to_numpy()))
        panels.setdefault(key, ([], rows))[0].append(dataset)
    return {", ".join(names): rows for names, rows in panels.values()}


def extractor_checks_figure(checks: pd.DataFrame) -> plt.Figure:
    """Per dataset entry: FD against the held-out reals of each degradation at the floor,
    mild and strong, on a log axis; the floor as a band; a red cross where a step does not
    rise (the title names it)."""
    from sagan.report.figures import paper_theme

    paper_theme()
    panels = _panels(checks)
    fig, blocks = panel_grid([1] * len(panels), row_height=2.6, top=0.3)
    for (title, rows), (ax,) in zip(panels.items(), blocks, strict=True):
        floor = rows[rows["expected_rank"] == 0].iloc[0]
        floor_band(ax, floor["fd"], floor["fd_sd"] if pd.notna(floor["fd_sd"]) else 0.0)
        for name, steps in rows[rows["expected_rank"] > 0].groupby("degradation", sort=False):
            steps = pd.concat([floor.to_frame().T, steps]).sort_values("expected_rank")
            strengths = ", ".join(f"{s:.3g}" for s in steps["strength"].iloc[1:])
            ax.plot(
                steps["expected_rank"].astype(int),
                steps["fd"].astype(float),
                marker="o",
                label=f"{name.replace('_', ' ')} ({strengths})",
            )
            bad = steps[~steps["ok"].astype(bool)]
            ax.plot(bad["expected_rank"], bad["fd"], "x", color="red", ms=9, mew=2, zorder=5)
        ax.set_yscale("log")
        ax.set_xticks(range(len(STEP_NAMES)), STEP_NAMES)
        ax.set_xlim(-0.3, len(STEP_NAMES) - 0.7)
        extractor = rows["extractor"].iloc[0]
        ax.set(xlabel="degradation", ylabel=f"FD ({extractor}) vs held-out ↓")
        failed = check_warnings(rows)
        verdict = f"{len(failed)} out of order" if failed else "in order"
        ax.set_title(f"{title}: {verdict}", loc="left", fontsize=8, fontweight="bold")
        ax.legend(fontsize=6, title="strengths", title_fontsize=6, loc="upper left")
    fig.suptitle("Extractor checks: degraded reals vs the real-vs-real floor", fontsize=9)
    fig.tight_layout()
    return fig
