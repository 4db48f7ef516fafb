"""Every run folder -> one tidy row (study, dataset, arm, size, seed, metrics, cost), and
each metric's protocol as its own long table (``metric_protocol``): metrics of one run are
scored on different sample sets (images, at most 1,024 of them for pixel metrics, clips,
frames), so no single sample-count column could describe a row."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd

from sagan.config import RunConfig, load_run_config
from sagan.errors import DataError
from sagan.io import atomic_write_bytes, atomic_write_text, read_json_object, read_table
from sagan.metrics.declared import resolve
from sagan.report.run_checks import collapse, convergence, final_gammas, reference_trace
from sagan.run_folder import CONFIG, EVALUATE_LOG, LOG, METRICS, read_status

ID_COLUMNS = ["study", "dataset", "arm", "size", "seed"]
STATUS_COLUMNS = [
    "iterations",
    "train_images",
    "train_seconds",
    "it_per_s",
    "params_g",
    "params_d",
    "r_t",  # E[sign(D(x_train))] over the last logging interval (Karras et al. 2020)
    "d_gap",  # D(training reals) - D(held-out reals), mean logits, at the end
]


def _ids(cfg: RunConfig) -> dict:
    """A run's ID_COLUMNS from its resolved config."""
    return {
        "study": cfg.study,
        "dataset": cfg.data.dataset,
        "arm": cfg.arm or cfg.variant,  # what tables compare (a run outside a study: its variant)
        "size": str(cfg.data.size),
        "seed": cfg.train.seed,
    }


def run_config(run_dir: Path) -> RunConfig:
    """The run's config.yaml, typed as the trainer reads it: a field added since the run was
    written takes its default, so old run folders still aggregate."""
    return load_run_config(run_dir / CONFIG)


def run_ids(run_dir: Path) -> dict:
    """The ids alone: the protocol and log tables key their rows by them, and need none of
    a full row's work (its log read, its checks)."""
    return _ids(run_config(run_dir))


def run_row(run_dir: Path) -> dict:
    cfg = run_config(run_dir)
    status = read_status(run_dir)
    ids = _ids(cfg)
    row = {
        "study": ids["study"],
        "dataset": ids["dataset"],
        "arm": ids["arm"],
        "variant": cfg.variant,  # the registered variant: the model code
        "sweep": cfg.sweep,
        "sweep_point": json.dumps(cfg.sweep_point, sort_keys=True),
        "size": ids["size"],
        "seed": ids["seed"],
        "resolution": cfg.data.resolution,
    }
    # where attention sits, e.g. "8" or "4,8" (empty: none); claim 2 groups by it
    row |= placements(cfg)
    row |= {k: status.get(k, math.nan) for k in STATUS_COLUMNS}
    metrics = _metrics(run_dir)
    row |= {name: m["value"] for name, m in metrics.items()}
    for name, m in metrics.items():  # a probe's reference scores, for its figure
        row |= {f"{name}_{k}": m[k] for k in ("real_heldout", "chance") if k in m}
    row |= learned(run_dir, cfg, {name: m["value"] for name, m in metrics.items()})
    row["status"], row["reason"] = run_state(status, (run_dir / METRICS).is_file())
    row["diverged_at"] = status.get("iteration") if status["state"] == "diverged" else math.nan
    row["run_dir"] = str(run_dir)
    return row


def learned(run_dir: Path, cfg: RunConfig, metrics: dict[str, float]) -> dict:
    """The run's declared checks (sagan.report.run_checks): ``converged`` and the
    ``converged_change`` it read from the FD scored while training, ``collapsed`` and its
    ``collapse_reason``, and the final attention gates ``gamma_g_final`` / ``gamma_d_final``
    (mean |gamma| of each side's blocks in the log's last row)."""
    log = _log(run_dir)
    during = [c for c in log.columns if c.startswith("during_")]
    points = []
    if during and "iteration" in log:
        scored = log[log[during[0]].notna()]
        points = list(zip(scored["iteration"].astype(int), scored[during[0]], strict=True))
    converged, change = convergence(points, cfg.train.iterations)
    trace = _reference_trace(run_dir, cfg.eval.reference_path)
    collapsed, reason = collapse(metrics, trace) if metrics else (None, "not evaluated")
    last = log.iloc[-1].to_dict() if len(log) else {}
    return {
        "converged": converged,
        "converged_change": change,
        "collapsed": collapsed,
        "collapse_reason": reason,
        **final_gammas(last),
    }


# A run's own file, damaged: the next `snakemake` writes it anew, without training or scoring
REBUILD = "delete it and run `snakemake` again: a finished run writes it anew from its state"


def _log(run_dir: Path) -> pd.DataFrame:
    path = run_dir / LOG
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    log = read_table(path, "training log", REBUILD)
    if "iteration" not in log:
        raise DataError(f"training log {path} has no iteration column; {REBUILD}")
    return log


def _reference_trace(run_dir: Path, reference: str) -> float | None:
    """The trace of the run's held-out reference features' covariance; None where the file
    is not found (as given, or below a folder above the run: paths are relative to the
    folder that holds ``results/``)."""
    if not reference:
        return None
    candidates = [Path(reference)] + [p / reference for p in run_dir.resolve().parents]
    found = next((p for p in candidates if p.is_file()), None)
    return _trace_of(str(found.resolve())) if found else None


@cache
def _trace_of(path: str) -> float:
    from sagan.metrics.reference_files import load_reference

    features, _ = load_reference(path)
    return reference_trace(features)


def _metrics(run_dir: Path) -> dict[str, dict]:
    path = run_dir / METRICS
    if not path.is_file():
        return {}
    metrics = read_json_object(path, "metrics", REBUILD).get("metrics")
    entries = metrics.values() if isinstance(metrics, dict) else [None]
    if not all(isinstance(m, dict) and _is_number(m.get("value")) for m in entries):
        raise DataError(f"metrics {path} has an entry without a numeric value; {REBUILD}")
    return metrics


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


PROTOCOL_COLUMNS = [
    "metric",
    "family",  # its declaration (sagan.metrics.declared)
    "better",  # "lower", "higher" or empty
    "unit",
    "num_samples",
    "samples",  # what num_samples counts: generated images, frames, clips
    "extractor",  # the network that made the features (empty: pixels)
    "extractor_file",
    "reference_split",
    "reference_count",
]
RECORDED = ("num_samples", "extractor", "extractor_file", "reference_split", "reference_count")


def protocol_rows(run_dir: Path) -> list[dict]:
    """One row per metric of a run: its ids, its declaration and the protocol it was scored
    with (as recorded; the declaration as declared now, so older metrics.json read too)."""
    metrics = _metrics(run_dir)
    if not metrics:
        return []
    ids = run_ids(run_dir)
    rows = []
    for name, entry in metrics.items():
        m = resolve(name)  # None: a metric nobody declares any more
        declared = {
            "family": m.declaration.key if m else "",
            "better": (m.better or "") if m else "",
            "unit": m.declaration.unit if m else "",
            "samples": m.samples if m else "",
        }
        recorded = {k: entry.get(k) for k in RECORDED}
        rows.append({**ids, "metric": name, **declared, **recorded})
    return rows


# the noise floor of the metric (real vs real at the study's counts; NaN: none measured)
FLOOR_COLUMNS = ["floor_mean", "floor_sd", "floor_num_samples", "floor_reference_count"]


def metric_protocol(
    run_dirs: Iterable[str | Path], floor: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Each run's metrics with their sample count, extractor, reference split, unit and
    direction: the summary's metric columns, described; with ``floor`` (the study's
    noise_floor.csv), each metric's floor beside them."""
    rows = [r for d in run_dirs for r in protocol_rows(Path(d))]
    protocol = pd.DataFrame(rows, columns=[*ID_COLUMNS, *PROTOCOL_COLUMNS])
    if floor is None or floor.empty:
        return protocol.assign(**{c: math.nan for c in FLOOR_COLUMNS})
    renamed = {"mean": "floor_mean", "sd": "floor_sd", "num_samples": "floor_num_samples"}
    renamed["reference_count"] = "floor_reference_count"
    floor = floor.rename(columns=renamed)[["dataset", "metric", *FLOOR_COLUMNS]]
    return protocol.merge(floor, on=["dataset", "metric"], how="left")


def run_state(status: dict, evaluated: bool) -> tuple[str, str]:
    """The row's status and, when known, why it is not ``done``: a failed run is a row with
    its one-line reason, so a study with failed runs still gets its summary and report."""
    state, reason = status["state"], str(status.get("reason") or "").strip()
    if state == "done" and not evaluated:  # trained, but its evaluate job failed or never ran
        state, reason = "unevaluated", f"no {METRICS}: see the run's {EVALUATE_LOG}"
    elif state == "running":
        reason = reason or "not finished: still running, or killed (rerun to resume it)"
    return state, (reason.splitlines() or [""])[0][:300]


def placements(cfg: RunConfig) -> dict[str, str]:
    """The feature-map sides of the arm's attention slots in G and D, read from the
    variant's own spec, so plug-in variants report theirs too."""
    from sagan.models import build_variant
    from sagan.models.placement import placed_sides
    from sagan.registry import load_plugins

    try:
        load_plugins(cfg.plugins)
        spec = build_variant(cfg.variant, cfg.variant_options)
    except Exception:  # a variant no longer importable: the options are the best record
        g, d = placed_sides(cfg.variant, cfg.variant_options)
        return {"g_attention": _sides(g), "d_attention": _sides(d)}
    return {"g_attention": _sides(spec.g_slots), "d_attention": _sides(spec.d_slots)}


def _sides(resolutions) -> str:
    return ",".join(str(r) for r in sorted(resolutions or []))


def aggregate(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    rows = [run_row(Path(d)) for d in run_dirs]
    return pd.DataFrame(rows).sort_values(ID_COLUMNS, key=_natural).reset_index(drop=True)


def _natural(col: pd.Series) -> pd.Series:
    """Sort sizes numerically with 'full' last."""
    if col.name == "size":
        return col.map(lambda s: math.inf if s == "full" else float(s))
    return col


def training_logs(run_dirs: Iterable[str | Path]) -> pd.DataFrame:
    """Every run's log.csv stacked, each row keyed by its run's ids (long, tidy)."""
    frames = []
    for d in map(Path, run_dirs):
        rows = _log(d)
        if rows.empty:
            continue
        ids = run_ids(d)
        frames.append(rows.assign(**ids))
    if not frames:
        return pd.DataFrame(columns=[*ID_COLUMNS, "iteration"])
    logs = pd.concat(frames, ignore_index=True)
    return logs[ID_COLUMNS + [c for c in logs.columns if c not in ID_COLUMNS]]


def write_csv_parquet(df: pd.DataFrame, path: str | Path) -> list[Path]:
    """``path`` as CSV and the same table beside it as ``.parquet`` (typed, for pandas/arrow
    users), both written atomically."""
    import io

    path = Path(path)
    atomic_write_text(path, df.to_csv(index=False))
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    parquet = path.with_suffix(".parquet")
    atomic_write_bytes(parquet, buf.getvalue())
    return [path, parquet]
