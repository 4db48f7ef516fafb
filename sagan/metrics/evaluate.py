"""Score a trained run: load its G, let its data's kind score it, write ``metrics.json``."""

from __future__ import annotations

from pathlib import Path

import torch

from sagan.config import RunConfig, load_run_config
from sagan.data import DataMeta, load_prepared
from sagan.errors import DataError
from sagan.io import atomic_write_json, load_torch_file
from sagan.metrics.declared import annotate
from sagan.metrics.kept_scores import inputs_digest, keep, restore
from sagan.metrics.protocols import protocol_of
from sagan.models.backbone import models_for_run, run_classes
from sagan.registry import load_plugins
from sagan.run_folder import CHECKPOINT, CONFIG, METRICS, read_status


def load_generator(
    cfg: RunConfig, run_dir: Path, meta: DataMeta, device: str = "cpu"
) -> tuple[torch.nn.Module, int]:
    """The trained G in eval mode, and its number of classes (0: unconditional)."""
    G, _ = models_for_run(cfg, meta)
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise DataError(f"{path} does not exist: train the run first (sagan train)")
    fix = "delete it and re-run the run's training (sagan train) to write it again"
    state = load_torch_file(path, "checkpoint", fix, map_location=device)
    try:
        G.load_state_dict(state.get("G_ema", state["G"]))  # the EMA of G when training kept one
    except (AttributeError, KeyError, RuntimeError) as err:  # not a G of this run's config
        raise DataError(f"checkpoint {path} does not hold this run's G ({err}); {fix}") from err
    return G.to(device).eval(), run_classes(cfg, meta)


def evaluate(
    run_dir: str | Path, *, device: str = "cpu", state_dir: str | Path | None = None
) -> dict:
    """Write ``metrics.json`` into the run dir and return it. With ``state_dir`` (the run's
    state folder) a copy is kept there under the hash of the run's inputs, and a rerun on the
    same inputs restores it instead of scoring again (sagan.metrics.kept_scores)."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir / CONFIG)
    if state_dir is None:
        return _score(cfg, run_dir, device)
    digest = inputs_digest(cfg, run_dir)
    kept = restore(state_dir, digest, run_dir)
    if kept is not None:
        atomic_write_json(run_dir / METRICS, kept)
        return {**kept, "restored": True}
    result = _score(cfg, run_dir, device)
    keep(state_dir, digest, result)
    return result


def _score(cfg: RunConfig, run_dir: Path, device: str) -> dict:
    status = read_status(run_dir)
    if status["state"] == "diverged":  # a result, not an error: no metrics, the status says why
        result = {"run": str(run_dir), "status": "diverged", "metrics": {}}
        atomic_write_json(run_dir / METRICS, result)
        return result
    load_plugins(cfg.plugins)
    data = load_prepared(cfg.data.path)  # once: it can be gigabytes
    G, classes = load_generator(cfg, run_dir, data.meta, device)
    metrics = protocol_of(data).score(cfg, data, G, classes, device)
    return _write_metrics(run_dir, metrics)


def _write_metrics(run_dir: Path, metrics: dict) -> dict:
    """metrics.json, each entry stamped with its declaration (unit, direction, what its
    sample count counts): an undeclared metric fails here, before any table reads it."""
    state = read_status(run_dir)["state"]
    result = {"run": str(run_dir), "status": state, "metrics": annotate(metrics)}
    atomic_write_json(run_dir / METRICS, result)
    return result
