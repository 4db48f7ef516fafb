"""The paper's tables, built from the per-cell statistics (``sagan.report.stats.cell_stats``),
the per-run summary and the cost profiles: ablation, small data, video, cost scaling."""

from __future__ import annotations

import math

import pandas as pd

from sagan.cost.slopes import MEMORY_STEP_MIB, NO_SLOPE, scaling_slope
from sagan.metrics.declared import feature_name, resolve
from sagan.report.tables import Table, direction, fmt, fmt_ci

VIDEO_COLUMNS = [
    "fd_frame_domain",
    "kid_frame_domain",
    "fd_video_domain3d",
    "kid_video_domain3d",
    "fvd",
    "temporal_consistency",
    "motion_smoothness",
]


def headline(summary: pd.DataFrame) -> tuple[str | None, str | None]:
    """The headline FD/FID column (the first FD over whole images, not frames or clips) and
    the KID of the same extractor (e.g. fd_domain, kid_domain), by their declarations."""
    for column in summary.columns:
        m = resolve(column)
        if m and m.declaration.key == "fd" and m.on_images:
            kid = feature_name("kid", m.extractor)
            return column, kid if kid in summary.columns else None
    return None, None


def label(metric: str) -> str:
    """fd_domain -> FD-domain, kid_video_domain3d -> KID-video-domain3d, fid -> FID."""
    head, _, rest = metric.partition("_")
    if head in ("fd", "kid", "fid", "fvd"):
        return head.upper() + ("-" + rest.replace("_", "-") if rest else "")
    return metric.replace("_", " ")


def video_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """Runs of video datasets: those with a 3D (video) FD."""
    if "fd_video_domain3d" not in summary:
        return summary.iloc[0:0]
    return summary[summary["fd_video_domain3d"].notna()]


def largest_size(stats: pd.DataFrame) -> pd.DataFrame:
    """Each dataset's cells at its largest training set."""
    top = stats.groupby("dataset")["train_images"].transform("max")
    return stats[stats["train_images"] == top]


def cost_rows(profile: pd.DataFrame | None, precision: str = "fp32") -> pd.DataFrame:
    """One cost row per (dataset, arm): the given precision where profiled, else the first."""
    if profile is None or profile.empty:
        return pd.DataFrame(columns=["dataset", "arm"])
    rows = profile.copy()
    rows["_pick"] = rows["precision"] != precision
    return rows.sort_values("_pick").groupby(["dataset", "arm"], sort=False).head(1)


def _with_images(wide: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """(dataset, arm, train_images) of each row of a table at one size per dataset."""
    images = cells.groupby(["dataset", "arm"])["train_images"].first()
    keys = wide.index.to_frame(index=False)
    return keys.assign(train_images=list(images.reindex(wide.index)))


def _cells(stats: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Wide: one row per cell, columns (statistic, metric)."""
    wide = stats.pivot_table(
        index=keys,
        columns="metric",
        values=["mean", "ci_lo", "ci_hi", "n"],
        aggfunc="first",
        dropna=False,  # one seed: every CI is NaN, and its column must stay
    )
    return wide[wide["mean"].notna().any(axis=1)]  # dropna=False also crosses the keys


def _ci_column(wide: pd.DataFrame, metric: str) -> tuple[list[str], list[float]]:
    if ("mean", metric) not in wide:
        return ["–"] * len(wide), [math.nan] * len(wide)
    m, lo, hi, n = (wide[(s, metric)] for s in ("mean", "ci_lo", "ci_hi", "n"))
    text = [fmt_ci(*v) for v in zip(m, lo, hi, n.fillna(0).astype(int), strict=True)]
    return text, list(m)


def _mean_column(wide: pd.DataFrame, metric: str) -> tuple[list[str], list[float]]:
    if ("mean", metric) not in wide:
        return ["–"] * len(wide), [math.nan] * len(wide)
    return [fmt(v) for v in wide[("mean", metric)]], list(wide[("mean", metric)])


def _build(keys: pd.DataFrame, columns: dict[str, tuple[list[str], list[float]]]) -> tuple:
    text, values = keys.reset_index(drop=True).copy(), keys.reset_index(drop=True).copy()
    for name, (t, v) in columns.items():
        text[name], values[name] = t, v
    return text, values


def floor_column(
    wide: pd.DataFrame, floor: pd.DataFrame | None, metric: str
) -> tuple[list[str], list[float]] | None:
    """Each row's dataset's floor of ``metric``, 'mean ± SD'; None without a floor file."""
    if floor is None or floor.empty:
        return None
    rows = floor[floor["metric"] == metric].set_index("dataset")
    datasets = wide.index.get_level_values("dataset")
    mean = [float(rows["mean"].get(d, math.nan)) for d in datasets]
    sd = [float(rows["sd"].get(d, math.nan)) for d in datasets]
    pairs = zip(mean, sd, strict=True)
    text = ["–" if math.isnan(m) else f"{fmt(m)} ± {fmt(v, 2)}" for m, v in pairs]
    return text, [math.nan] * len(mean)  # not a result: never bold


def floor_note(floor: pd.DataFrame | None, checks: pd.DataFrame | None = None) -> str:
    """The floor's footnote, and a warning per extractor check out of order."""
    if floor is None or floor.empty:
        return ""
    from sagan.metrics.extractor_checks import check_warnings

    r = floor.iloc[0]
    note = (
        f" floor: FD between {int(r['num_samples'])} training-pool and {int(r['reference_count'])}"
        f" held-out real images, mean ± SD over {int(r['resamples'])} draws: a difference"
        " between arms under it is no effect."
    )
    warnings = check_warnings(checks) if checks is not None and len(checks) else []
    return note + "".join(f" WARNING: {w}." for w in warnings)


def ablation_table(
    summary: pd.DataFrame,
    stats: pd.DataFrame,
    profile: pd.DataFrame | None,
    floor: pd.DataFrame | None = None,
    checks: pd.DataFrame | None = None,
) -> Table | None:
    """Variant x dataset at each dataset's largest training set: quality with CIs and cost,
    and the real-vs-real floor of FD where measured (``floor``: the study's noise_floor.csv;
    ``checks``: its extractor_checks.csv, whose failures the note names). None for a study
    without image runs (a video-only study: its table is ``video_table``)."""
    fd, kid = headline(summary)
    cells = largest_size(stats[~stats["dataset"].isin(video_rows(summary)["dataset"])])
    if fd is None or cells.empty:
        return None
    wide = _cells(cells, ["dataset", "arm"])
    columns = {}
    for metric in (fd, kid):
        if metric:
            columns[label(metric)] = _ci_column(wide, metric)
    if fd and (floors := floor_column(wide, floor, fd)):
        columns[f"{label(fd)} floor"] = floors
    pr = sorted(c for c in summary.columns if c.startswith(("precision_", "recall_")))
    pr = pr or [c for c in ("precision", "recall") if c in summary]
    for metric in pr:
        columns[label(metric)] = _mean_column(wide, metric)
    columns["seeds"] = ([str(int(v)) for v in wide[("n", fd)]], [math.nan] * len(wide))
    flag_note = _add_flags(columns, summary, _with_images(wide, cells))
    cost = cost_rows(profile).set_index(["dataset", "arm"]).reindex(wide.index)
    if "macs_g" in cost:
        giga = max(cost["macs_g"].max(), cost["macs_d"].max()) >= 1e8
        scale, unit = (1e9, "GMACs") if giga else (1e6, "MMACs")
        columns[f"{unit} G"] = _plain(cost["macs_g"] / scale)
        columns[f"{unit} D"] = _plain(cost["macs_d"] / scale)
        columns["params (M)"] = _plain((cost["params_g"] + cost["params_d"]) / 1e6)
        columns["ms/step"] = _plain(cost["ms_per_step"])
        columns["overhead %"] = _overhead(cost)
        columns["peak MiB"] = _plain(cost["peak_mem_mib"])
    text, values = _build(wide.index.to_frame(), columns)
    best = {c: direction(m) for c, m in [(label(fd), fd), (label(kid or ""), kid or "")] if m}
    best |= {label(m): direction(m) for m in pr}
    best |= {c: "min" for c in ("ms/step", "peak MiB") if c in text}
    precision = next(iter(cost["precision"].dropna()), "–") if "precision" in cost else "–"
    note = (
        "Quality: mean ± half the 95% Student-t CI over seeds, at each dataset's largest "
        f"training set. Cost: one training step (D + G), {precision}, median of the profile; "
        f"{OVERHEAD_NOTE} MACs per image (FLOPs = 2 x MACs). "
        "FD-domain/KID-domain are not FID." + flag_note + floor_note(floor, checks)
    )
    caption = "Ablation: quality and cost per arm and dataset"
    return Table(caption, text, values, ["dataset", "arm"], best, ["dataset"], note)


OVERHEAD_NOTE = (
    "overhead vs the baseline arm, its median over the profile's interleaved rounds "
    "[the interval of that median over the rounds]; † the machine was loaded while profiling "
    "(1-minute load average above its cores)."
)


def _overhead(cost: pd.DataFrame) -> tuple[list[str], list[float]]:
    """Overhead % over the baseline, with its interval over the rounds where the profile has
    one (older profiles do not) and † where the machine was loaded."""
    pct = 100 * (cost["ratio_to_baseline"] - 1)
    nan = pd.Series(math.nan, index=cost.index)
    lo = 100 * (cost.get("ratio_lo", nan) - 1)
    hi = 100 * (cost.get("ratio_hi", nan) - 1)
    loaded = cost.get("loaded", nan).astype(str) == "True"
    text = []
    for v, a, b, busy in zip(pct, lo, hi, loaded, strict=True):
        cell = "–" if pd.isna(v) else f"{v:+.1f}"
        if pd.notna(v) and pd.notna(a) and a != b:
            cell += f" [{a:+.1f}, {b:+.1f}]"
        text.append(cell + ("†" if busy else ""))
    return text, list(pct)


FLAGS = {"collapsed": "collapsed", "converged": "converged"}  # summary column -> table column
FLAG_NOTE = (
    "collapsed / converged: runs that meet the declared criterion, of the runs it could read "
    "(docs/claims-and-statistics.md, 'Runs that learned'); no run is left out of the "
    "statistics for it."
)


def _flag_counts(
    summary: pd.DataFrame, keys: pd.DataFrame, flag: str
) -> tuple[list[str], list[float]]:
    """'k/n' per row of ``keys`` (dataset, arm, train_images): of its runs that have a
    ``flag`` value, the n, and k that are True; '–' where no run has one."""
    text, values = [], []
    for _, key in keys.iterrows():
        match = pd.Series(True, index=summary.index)
        for column, value in key.items():
            match &= summary[column] == value
        flags = summary.loc[match, flag].dropna()
        k = int((flags == True).sum())  # noqa: E712 (object column of True / False / None)
        text.append(f"{k}/{len(flags)}" if len(flags) else "–")
        values.append(math.nan)  # never bold
    return text, values


def _add_flags(columns: dict, summary: pd.DataFrame, keys: pd.DataFrame) -> str:
    """The flag-count columns the summary can fill, and their note ('' for none)."""
    present = [f for f in FLAGS if f in summary and "train_images" in summary]
    for flag in present:
        columns[FLAGS[flag]] = _flag_counts(summary, keys, flag)
    return f" {FLAG_NOTE}" if present else ""


def _plain(series: pd.Series, signed: bool = False) -> tuple[list[str], list[float]]:
    text = [("–" if pd.isna(v) else (f"{v:+.1f}" if signed else fmt(v))) for v in series]
    return text, list(series)


def small_data_table(
    summary: pd.DataFrame, stats: pd.DataFrame, floor: pd.DataFrame | None = None
) -> Table | None:
    """Size x arm: FD against held-out and training reals, their gap, r_t, memorisation;
    the held-out FD's real-vs-real floor where measured (the study's noise_floor.csv)."""
    fd, _ = headline(summary)
    if fd is None:
        return None
    cells = stats[~stats["dataset"].isin(video_rows(summary)["dataset"])]
    wide = _cells(cells, ["dataset", "train_images", "arm"])
    memo = next((c for c in summary.columns if c.startswith("memo_") and "near" in c), None)
    columns = {
        f"{label(fd)} held-out": _ci_column(wide, fd),
        f"{label(fd)} train": _mean_column(wide, f"{fd}_train"),
        "gap": _ci_column(wide, f"{fd}_gap"),
        "r_t": _ci_column(wide, "r_t"),
    }
    if floors := floor_column(wide, floor, fd):
        columns = {**dict(list(columns.items())[:1]), "floor": floors, **columns}
    if memo:
        columns["near copies"] = _mean_column(wide, memo)
    columns["seeds"] = ([str(int(v)) for v in wide[("n", fd)]], [math.nan] * len(wide))
    flag_note = _add_flags(columns, summary, wide.index.to_frame(index=False))
    keys = wide.index.to_frame().rename(columns={"train_images": "images"})
    keys["images"] = keys["images"].astype(int)
    text, values = _build(keys, columns)
    best = {f"{label(fd)} held-out": "min", "gap": "min", "r_t": "min"}
    best |= {"near copies": "min"} if memo else {}
    note = (
        "gap = FD(held-out) - FD(train): > 0 means G is closer to its training images. "
        "r_t = E[sign(D(x_train))] (Karras et al. 2020): toward 1 as D overfits. "
        "Mean ± half the 95% Student-t CI over seeds." + flag_note + floor_note(floor)
    )
    caption = "Small data: generalisation gap and overfitting per training-set size"
    return Table(
        caption, text, values, ["dataset", "images", "arm"], best, ["dataset", "images"], note
    )


def video_table(
    summary: pd.DataFrame, stats: pd.DataFrame, profile: pd.DataFrame | None
) -> Table | None:
    """Per-frame FD, video FD, temporal consistency and cost; None without video runs."""
    video = video_rows(summary)
    if video.empty:
        return None
    cells = largest_size(stats[stats["dataset"].isin(video["dataset"])])
    wide = _cells(cells, ["dataset", "arm"])
    metrics = [c for c in VIDEO_COLUMNS if c in summary and summary[c].notna().any()]
    columns = {label(m): _ci_column(wide, m) for m in metrics}
    columns["seeds"] = (
        [str(int(v)) for v in wide[("n", "fd_video_domain3d")]],
        [math.nan] * len(wide),
    )
    flag_note = _add_flags(columns, summary, _with_images(wide, cells))
    cost = cost_rows(profile).set_index(["dataset", "arm"]).reindex(wide.index)
    if "ms_per_step" in cost:
        columns["ms/step"] = _plain(cost["ms_per_step"])
        columns["overhead %"] = _overhead(cost)
    text, values = _build(wide.index.to_frame(), columns)
    best = {label(m): direction(m) for m in metrics if direction(m)}
    best |= {"ms/step": "min"} if "ms/step" in text else {}
    note = (
        "Mean ± half the 95% Student-t CI over seeds, at each dataset's largest training set. "
        f"Cost: one training step (D + G), median of the profile; {OVERHEAD_NOTE}" + flag_note
    )
    caption = "Video: per-frame and video quality, temporal consistency, cost"
    return Table(caption, text, values, ["dataset", "arm"], best, ["dataset"], note)


# the table's columns fitted against tokens N, and the scaling rows' columns they show
SLOPE_COLUMNS = {
    "ms over baseline": "overhead_ms",
    "MiB over baseline": "overhead_mem_mib",
    "attention MMACs": "attention_macs",
}


def scaling_table(scaling: pd.DataFrame) -> Table:
    """Attention cost over the baseline against tokens N, per arm and placement, with the
    fitted slopes of ``sagan.cost.slopes.scaling_slope`` (the slopes file's own rule), fitted
    here from the rows so a slopes file of an older rule cannot disagree with the figure."""
    rows = scaling[scaling["tokens"] > 0].copy()
    divisor = rows["resolution"] // rows["attention_side"]
    rows["placement"] = "image side / " + divisor.astype(str)
    order = {v: i for i, v in enumerate(dict.fromkeys(rows["arm"]))}  # in sweep order
    rows = rows.assign(_v=rows["arm"].map(order), _d=divisor).sort_values(["_v", "_d"])
    text_rows = []
    for (arm, placement), group in rows.groupby(["arm", "placement"], sort=False):
        for _, r in group.sort_values("tokens").iterrows():
            text_rows.append(
                {
                    "arm": arm,
                    "placement": placement,
                    "image px": str(int(r["resolution"])),
                    "tokens N": str(int(r["tokens"])),
                    "ms over baseline": fmt(r["overhead_ms"]),
                    "MiB over baseline": fmt(r["overhead_mem_mib"]),
                    "attention MMACs": fmt(r["attention_macs"] / 1e6),
                }
            )
        slopes = {c: scaling_slope(group, c) for c in SLOPE_COLUMNS.values()}
        text_rows.append(
            {"arm": arm, "placement": placement, "image px": "slope", "tokens N": "log-log"}
            | {name: fmt(slope, 2) if math.isfinite(slope) else "no slope" for name, slope in
               zip(SLOPE_COLUMNS, slopes.values(), strict=True)}
        )  # fmt: skip
    text = pd.DataFrame(text_rows)
    device = scaling["device"].iloc[0] if "device" in scaling else "?"
    note = (
        f"Measured on {device}. 'slope' rows: least-squares slope of log cost on log N "
        "(2 = quadratic in tokens, 1 = linear), through the token counts whose cost lies above "
        "the measurement floor (time: the per-round ratio's interval above 1; memory: above one "
        f"{MEMORY_STEP_MIB} MiB step of the reading); 'no slope': {NO_SLOPE}."
    )
    caption = "Cost scaling of attention against tokens N (attention MACs per image, G + D)"
    keys = ["arm", "placement", "image px", "tokens N"]
    return Table(caption, text, text.copy(), keys, {}, ["arm", "placement"], note)
