"""Hyperparameter sensitivity from a study's sweeps: for each sweep (the arms sharing
``sweep``) and each option it sweeps (the keys of ``sweep_point``), per dataset and option
value, the headline FD and the time of one training step (ms/step = 1000 / it_per_s) with
their mean and 95% Student-t CI over seeds; as a table and as a figure.

A sweep over several options crosses them; each option's table pools the arms that share
its value (over the other options' values), which its caption says. Pure functions over the
summary table; no file is read here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import SubFigure

from sagan.io import atomic_write_text
from sagan.report.figures import TWO_COLUMN_WIDTH, metric_label, paper_theme
from sagan.report.panels import colors_for, keep_above
from sagan.report.paper_tables import headline
from sagan.report.stats import lower_bound, t_interval
from sagan.report.tables import Table, fmt_ci, to_latex, to_markdown

MS_PER_STEP = "ms_per_step"
COLUMNS = ["sweep", "option", "value", "dataset", "metric", "n", "mean", "ci_lo", "ci_hi"]


def value_label(value: Any) -> str:
    """A swept value as a short label: [4] -> "4", [4, 8] -> "4,8", 0.125 -> "0.125"."""
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        return ",".join(value_label(v) for v in value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _order(value: Any) -> tuple:
    """Numbers by value, lists of numbers by length then element-wise, anything else after
    them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, (1, float(value)), "")
    if isinstance(value, list) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        return (0, (len(value), *(float(v) for v in value)), "")  # [8] before [4, 8]
    return (1, (), json.dumps(value, sort_keys=True))


def sweep_runs(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (done run of a sweep, swept option): the run's columns plus ``option``,
    ``value`` (its label), ``order`` (its rank within the option) and ``ms_per_step``."""
    if "sweep" not in summary or "sweep_point" not in summary:
        return pd.DataFrame(columns=[*summary.columns, "option", "value", "order", MS_PER_STEP])
    done = summary[summary["status"] == "done"] if "status" in summary else summary
    done = done[done["sweep"].fillna("").astype(str) != ""]
    rows = []
    for _, run in done.iterrows():
        point = run["sweep_point"]
        point = json.loads(point) if isinstance(point, str) and point.strip() else {}
        for option, value in point.items():
            label = value_label(value)
            rows.append(run.to_dict() | {"option": option, "value": label, "_key": _order(value)})
    out = pd.DataFrame(rows, columns=[*summary.columns, "option", "value", "_key"])
    ranks = {}
    for (sweep, option), keys in out.groupby(["sweep", "option"], sort=False)["_key"]:
        for i, key in enumerate(sorted(set(keys))):
            ranks[sweep, option, key] = i
    out["order"] = [ranks[k] for k in zip(out["sweep"], out["option"], out["_key"], strict=True)]
    out = out.drop(columns="_key")
    speed = pd.to_numeric(out["it_per_s"], errors="coerce") if "it_per_s" in out else np.nan
    out[MS_PER_STEP] = 1000 / speed
    return out


def per_seed(cell: pd.DataFrame, metric: str) -> np.ndarray:
    """The metric per seed of a cell (the mean over runs sharing a seed: the values of the
    sweep's other options), finite values only."""
    x = pd.to_numeric(cell[metric], errors="coerce")
    if "seed" in cell:
        x = x.groupby(cell["seed"]).mean()
    return x.dropna().to_numpy(dtype=float)


def _floor(metric: str) -> float | None:
    """The lowest value ``metric`` can take: 0 for a time per step, else an FD's 0 or none."""
    return 0.0 if metric == MS_PER_STEP else lower_bound(metric)


def sensitivity(summary: pd.DataFrame) -> pd.DataFrame:
    """Tidy: one row per (sweep, option, value, dataset, metric) with n seeds, the mean and
    the 95% t-interval over seeds (``per_seed``), for the headline FD column and
    ms_per_step; rows in value order."""
    runs = sweep_runs(summary)
    fd, _ = headline(summary)
    metrics = [m for m in (fd, MS_PER_STEP) if m is not None and m in runs]
    rows = []
    keys = ["sweep", "option", "order", "value", "dataset"]
    for key, cell in runs.sort_values(keys).groupby(keys, sort=False):
        for metric in metrics:
            x = per_seed(cell, metric)
            if not len(x):
                continue
            lo, hi = t_interval(x, lower=_floor(metric))
            info = dict(zip(keys, key, strict=True))
            del info["order"]
            rows.append(info | {"metric": metric, "n": len(x), "mean": float(x.mean())})
            rows[-1] |= {"ci_lo": lo, "ci_hi": hi}
    return pd.DataFrame(rows, columns=COLUMNS)


def sweeps(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """The (sweep, option) pairs of a summary, in order."""
    runs = sweep_runs(summary)
    if runs.empty:
        return []
    return list(runs[["sweep", "option"]].drop_duplicates().itertuples(index=False, name=None))


def sensitivity_table(summary: pd.DataFrame, sweep: str, option: str) -> Table:
    """Per dataset and value of ``option`` in ``sweep``: seeds, FD and ms/step (mean ± half
    the 95% CI); the best value of each column per dataset in bold."""
    fd, _ = headline(summary)
    tidy = sensitivity(summary)
    tidy = tidy[(tidy["sweep"] == sweep) & (tidy["option"] == option)]
    metrics = [m for m in (fd, MS_PER_STEP) if m is not None and m in set(tidy["metric"])]
    text, values = [], []
    order = {v: i for i, v in enumerate(dict.fromkeys(tidy["value"]))}
    tidy = tidy.sort_values(
        ["dataset", "value"], key=lambda c: c.map(order) if c.name == "value" else c
    )
    for (dataset, value), cell in tidy.groupby(["dataset", "value"], sort=False):
        by = cell.set_index("metric")
        t = {"dataset": dataset, option: value, "seeds": int(by["n"].max())}
        v = dict(t)
        for m in metrics:
            name = "ms/step" if m == MS_PER_STEP else m
            if m in by.index:
                r = by.loc[m]
                t[name] = fmt_ci(r["mean"], r["ci_lo"], r["ci_hi"], int(r["n"]))
                v[name] = r["mean"]
            else:
                t[name], v[name] = "–", math.nan
        text.append(t)
        values.append(v)
    text, values = pd.DataFrame(text), pd.DataFrame(values)
    names = ["ms/step" if m == MS_PER_STEP else m for m in metrics]
    crossed = _crossed(summary, sweep, option)
    note = (
        "mean ± half the 95% t-interval over seeds; ms/step = 1000 / training it/s of each "
        "run (runs may share the machine)"
        + (f"; pooled over the other swept option(s) {', '.join(crossed)}" if crossed else "")
    )
    return Table(
        f"Sensitivity to {option} (sweep {sweep})",
        text,
        values,
        ["dataset", option],
        {n: "min" for n in names},
        ["dataset"],
        note,
    )


def _crossed(summary: pd.DataFrame, sweep: str, option: str) -> list[str]:
    runs = sweep_runs(summary)
    return sorted(set(runs.loc[runs["sweep"] == sweep, "option"]) - {option})


def sensitivity_tables(summary: pd.DataFrame) -> dict[tuple[str, str], Table]:
    """``sensitivity_table`` for every (sweep, option) of the summary."""
    return {(s, o): sensitivity_table(summary, s, o) for s, o in sweeps(summary)}


def _labels(runs: pd.DataFrame) -> tuple[list[str], bool]:
    """The option's value labels in order, and whether they are too long to sit level."""
    labels = runs.drop_duplicates("order").sort_values("order")["value"].tolist()
    return labels, max((len(x) for x in labels), default=1) * len(labels) > 28


def _option_runs(summary: pd.DataFrame, sweep: str, option: str) -> pd.DataFrame:
    runs = sweep_runs(summary)
    return runs[(runs["sweep"] == sweep) & (runs["option"] == option)]


def _height(runs: pd.DataFrame) -> float:
    return (2.4 if _labels(runs)[1] else 2.1) * max(runs["dataset"].nunique(), 1)


def sensitivity_figure(
    summary: pd.DataFrame,
    sweep: str,
    option: str,
    fig: plt.Figure | SubFigure | None = None,
    colors: dict[str, str] | None = None,
) -> plt.Figure | SubFigure:
    """One row per dataset, columns FD and ms/step, against the values of ``option`` in
    ``sweep`` (categories, in order): the mean with its 95% CI as an error bar, each seed a
    dot beside it; a value that is one arm in that arm's colour (``colors``: the report's),
    a value pooled over arms in grey. An FD's axis stops at 0. Drawn into ``fig`` (a
    sub-figure of ``sweeps_figure``) where given."""
    paper_theme()
    runs = _option_runs(summary, sweep, option)
    fd, _ = headline(summary)
    metrics = [m for m in (fd, MS_PER_STEP) if m is not None and runs[m].notna().any()]
    datasets = sorted(runs["dataset"].unique())
    labels, long = _labels(runs)
    own = fig is None
    if fig is None:
        fig = plt.figure(figsize=(TWO_COLUMN_WIDTH, _height(runs)))
    axes = fig.subplots(max(len(datasets), 1), max(len(metrics), 1), squeeze=False)
    rng = np.random.default_rng(0)
    palette = colors_for(runs["arm"].unique(), colors)
    for r, dataset in enumerate(datasets):
        mine = runs[runs["dataset"] == dataset]
        for c, metric in enumerate(metrics):
            ax = axes[r][c]
            for order, cell in mine.groupby("order"):
                y = per_seed(cell, metric)
                if not len(y):
                    continue
                arms = cell["arm"].unique()
                color = palette[arms[0]] if len(arms) == 1 else "0.35"
                jitter = rng.uniform(-0.12, 0.12, len(y))
                ax.scatter(order + 0.18 + jitter, y, s=10, alpha=0.45, color=color, lw=0)
                lo, hi = t_interval(y, lower=_floor(metric))
                m = float(y.mean())
                err = None if math.isnan(lo) else [[m - lo], [hi - m]]
                ax.errorbar(
                    order, m, yerr=err, fmt="o", color=color, ms=5, capsize=3, elinewidth=1.2
                )
            ax.set_xticks(range(len(labels)), labels, rotation=35 if long else 0)
            if long:
                for t in ax.get_xticklabels():
                    t.set_ha("right")
            ax.set_xlim(-0.5, len(labels) - 0.5)
            values = mine[metric].dropna()
            if len(values) and values.min() > 0 and values.max() > 20 * values.min():
                ax.set_yscale("log")  # one collapsed seed would flatten every other point
            keep_above(ax, _floor(metric))
            ax.set_xlabel(option if r == len(datasets) - 1 else "")
            ylabel = "ms / training step ↓" if metric == MS_PER_STEP else metric_label(metric)
            ax.set_ylabel(ylabel)
            ax.set_title(dataset, fontsize=9)
    crossed = _crossed(summary, sweep, option)
    title = f"Sweep {sweep}: {option} (mean, 95% CI over seeds; dots: seeds)"
    if crossed:
        title += f"\npooled over {', '.join(crossed)}"
    fig.suptitle(title, fontsize=9)
    if own:
        fig.tight_layout()
    return fig


def sweeps_figure(summary: pd.DataFrame, colors: dict[str, str] | None = None) -> plt.Figure | None:
    """Every (sweep, option) of the summary in one figure, a block of rows each
    (``sensitivity_figure``); None for a study with no sweep."""
    pairs = sweeps(summary)
    if not pairs:
        return None
    if len(pairs) == 1:
        return sensitivity_figure(summary, *pairs[0], colors=colors)
    heights = [_height(_option_runs(summary, s, o)) for s, o in pairs]
    fig = plt.figure(figsize=(TWO_COLUMN_WIDTH, sum(heights)), layout="constrained")
    blocks = fig.subfigures(len(pairs), 1, height_ratios=heights, squeeze=False)[:, 0]
    for block, (sweep, option) in zip(blocks, pairs, strict=True):
        sensitivity_figure(summary, sweep, option, fig=block, colors=colors)
    return fig


def write_sensitivity_tables(summary: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Every (sweep, option)'s table, one after another, in ``stem``.md and ``stem``.tex;
    nothing for a study with no sweep (the report's index says it is left out)."""
    tables = list(sensitivity_tables(summary).values())
    if not tables:
        return []
    paths = [Path(f"{stem}.md"), Path(f"{stem}.tex")]
    atomic_write_text(paths[0], "\n".join(to_markdown(t) for t in tables))
    atomic_write_text(paths[1], "\n".join(to_latex(t) for t in tables))
    return paths
