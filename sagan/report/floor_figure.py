"""The extractor checks' figure: degradations of real images ranked against the
real-vs-real floor (drawn as on every FD/KID panel: ``sagan.report.panels.floor_band``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from sagan.metrics.extractor_checks import check_warnings
from sagan.report.figures import paper_theme
from sagan.report.panels import floor_band, panel_grid

STEP_NAMES = ["floor", "mild", "strong"]  # the x positions: expected_rank 0, 1, 2


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
