"""A run's scores, kept in its state folder under the hash of everything they came from.

Snakemake deletes a job's outputs before it reruns the job, and again when the job fails. So
an evaluation rerun that fails (a damaged reference file, say) costs the run's finished
``metrics.json``. A copy kept above the output folder, where Snakemake never deletes, brings
it back without scoring again once every input is as it was; a change to any input (the
checkpoint, config, status, data, extractor, references, plug-ins or the scoring code) misses
the copy, and the run is scored afresh.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import torch

import sagan
from sagan.config import RunConfig
from sagan.io import atomic_write_json, load_torch_file
from sagan.run_folder import CHECKPOINT, CONFIG, read_status

KEPT = "scores"  # in the state folder: <digest>.json per scored set of inputs
_CHUNK = 1 << 20


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _code_files(cfg: RunConfig) -> list[Path]:
    """The package's source and the run's plug-ins: an edit to either may change a score."""
    files = sorted(Path(sagan.__file__).parent.rglob("*.py"))
    for name in cfg.plugins:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    return files


def generator_digest(checkpoint: Path) -> str:
    """The weights a score comes from (G's EMA, else G), by value: a finished run re-emits
    its checkpoint.pt with equal tensors but other pickle bytes, and that must not count as
    a change."""
    fix = "delete it and re-run the run's training to write it again"
    state = load_torch_file(checkpoint, "checkpoint", fix, map_location="cpu")
    weights = state.get("G_ema", state.get("G")) if isinstance(state, dict) else None
    h = hashlib.sha256()
    for name, tensor in sorted((weights or {}).items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}:".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def input_files(cfg: RunConfig, run_dir: Path) -> dict[str, Path]:
    """Every file besides the checkpoint that a score of this run is computed from, by role
    (each is rebuilt byte for byte when its inputs are unchanged)."""
    named = {
        "config": run_dir / CONFIG,
        "data": cfg.data.path,
        "extractor": cfg.eval.extractor_path,
        "reference": cfg.eval.reference_path,
        "train_reference": cfg.eval.train_reference_path,
        "i3d": cfg.eval.i3d_path,
    }
    return {role: Path(p) for role, p in named.items() if p and Path(p).is_file()}


def inputs_digest(cfg: RunConfig, run_dir: Path) -> str:
    """One hash of the contents of the run's inputs and of the code that scores them."""
    h = hashlib.sha256()
    # the state, not the file: status.json carries a time and where a re-emit resumed from
    h.update(f"state={read_status(run_dir)['state']}\n".encode())
    checkpoint = run_dir / CHECKPOINT
    if checkpoint.is_file():  # a diverged run has none
        h.update(f"G={generator_digest(checkpoint)}\n".encode())
    for role, path in sorted(input_files(cfg, run_dir).items()):
        h.update(f"{role}={_file_digest(path)}\n".encode())
    for path in _code_files(cfg):
        h.update(f"{path.name}={_file_digest(path)}\n".encode())
    return h.hexdigest()[:32]


def kept_path(state_dir: str | Path, digest: str) -> Path:
    return Path(state_dir) / KEPT / f"{digest}.json"


def restore(state_dir: str | Path, digest: str, run_dir: Path) -> dict[str, Any] | None:
    """The kept result for these inputs, re-addressed to ``run_dir``; None if there is none
    (or the copy is unreadable: then the run is scored again)."""
    path = kept_path(state_dir, digest)
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(result, dict) or not isinstance(result.get("metrics"), dict):
        return None
    return {**result, "run": str(run_dir)}


def keep(state_dir: str | Path, digest: str, result: dict[str, Any]) -> None:
    atomic_write_json(kept_path(state_dir, digest), result)
