"""One run's folders and the files in them: the one place that names them.

A run lies in two nested folders (the arm's key is ``sagan.layout.run_key``):
- its state folder, STATE: the trainer's own (CHECKPOINTS/, SAMPLE_GRIDS/, TENSORBOARD/
  events, its LOCK) and the scores evaluation keeps (sagan.metrics.kept_scores), kept for
  every iteration count, so lengthening a run continues it and a failed rerun costs nothing;
- its output folder, FOLDER = STATE/i<iterations>: what one iteration count produced. Every
  file in it is a workflow output, which Snakemake deletes before it reruns the job that
  writes it; that is why the state lies above it, never in it.

The output folder's files, by the job that writes each:
- run config: ``config.yaml`` (the resolved run config);
- train: ``checkpoint.pt`` (final weights), ``log.csv``, ``samples.png`` (the final grid),
  ``status.json`` (state and why), ``train.log``;
- evaluate: ``metrics.json``, ``evaluate.log``;
- attention maps: ``attention_maps.npz`` (G's maps, for the report), its ``.log``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from sagan.errors import DataError
from sagan.io import atomic_write_bytes, atomic_write_json

STATE = "results/runs/{study}/{dataset}/{arm}/n{size}/s{seed}"
FOLDER = STATE + "/i{iterations}"

# in the state folder
CHECKPOINTS = "checkpoints"  # every kept checkpoint (sagan.train.checkpoint)
SAMPLE_GRIDS = "samples"  # a grid per sample interval, iter_<iteration>.png
LOCK = "train.lock"  # held by the one trainer at work (sagan.train.lock)
TENSORBOARD = "tensorboard"  # live curves (sagan.train.live_log)

# in the output folder
CONFIG = "config.yaml"
RUN_CONFIG_LOG = "run_config.log"
CHECKPOINT = "checkpoint.pt"
LOG = "log.csv"
SAMPLES = "samples.png"
STATUS = "status.json"
TRAIN_LOG = "train.log"
METRICS = "metrics.json"
EVALUATE_LOG = "evaluate.log"
ATTENTION_MAPS = "attention_maps.npz"
ATTENTION_LOG = "attention_maps.log"
FILES = (
    CONFIG,
    RUN_CONFIG_LOG,
    CHECKPOINT,
    LOG,
    SAMPLES,
    STATUS,
    TRAIN_LOG,
    METRICS,
    EVALUATE_LOG,
    ATTENTION_MAPS,
    ATTENTION_LOG,
)

STATES = ("running", "done", "diverged", "failed")

# What a run that shares another's results copies from it (its config and logs are its own)
SHARED = (CHECKPOINT, LOG, SAMPLES, STATUS, METRICS)
# A finished run's results: the workflow's default target asks for each, so one deleted from a
# finished study is rebuilt (Snakemake reruns a job for a missing file only when a job that
# has to run wants it)
FINISHED = (CONFIG, CHECKPOINT, LOG, SAMPLES, METRICS)


def folder(study: str, dataset: str, arm: str, size: int | str, seed: int, iterations: int) -> str:
    """A run's output folder; ``arm`` is the arm's name and key (``<arm>-<key>``), or a glob
    such as ``<arm>-*`` for every configuration of the arm."""
    fields = {"study": study, "dataset": dataset, "arm": arm, "size": size, "seed": seed}
    return FOLDER.format(**fields, iterations=iterations)


def path(run_dir: str | Path, name: str) -> Path:
    """The file ``name`` (one of FILES) of the output folder ``run_dir``."""
    if name not in FILES:
        raise ValueError(f"{name!r} is not a run-folder file; run_folder.FILES names them")
    return Path(run_dir) / name


def pattern(name: str) -> str:
    """The file ``name`` of any run, as a pattern with the wildcards of FOLDER."""
    return str(path(FOLDER, name))


def missing_from_begun(files: list[str]) -> list[str]:
    """The ``files`` missing from run folders that exist (runs begun once)."""
    return [f for f in files if os.path.isdir(os.path.dirname(f)) and not os.path.exists(f)]


def state_of(run_dir: str | Path) -> str:
    """The state folder above an output folder (a path or FOLDER itself)."""
    return os.path.dirname(os.path.normpath(run_dir))


def write_status(run_dir: str | Path, state: str, **fields: Any) -> dict[str, Any]:
    assert state in STATES, state
    status = {"state": state, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields}
    atomic_write_json(path(run_dir, STATUS), status)
    return status


def read_status(run_dir: str | Path) -> dict[str, Any]:
    """The run's status; ``missing`` without a file, ``unknown`` (and why) for a corrupt one,
    so that one damaged file costs its run's status, never the whole study's summary."""
    file = path(run_dir, STATUS)
    if not file.is_file():
        return {"state": "missing"}
    try:
        status = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError):
        status = None  # JSONDecodeError is a ValueError
    if not isinstance(status, dict) or not isinstance(status.get("state"), str):
        reason = f"{file} is unreadable or has no state; delete it and re-run the run's training"
        return {"state": "unknown", "reason": reason}
    return status


def share(source: str | Path, dest: str | Path) -> list[Path]:
    """Copy a finished run's results (SHARED) into the output folder of a run that differs
    from it only by its labels; its status and metrics name the source as ``shared_from``.
    Each file is written atomically; a source without a file stops before any is written."""
    if os.path.realpath(source) == os.path.realpath(dest):
        raise DataError(f"{source} is the run itself: share a run's results with another run")
    missing = [name for name in SHARED if not path(source, name).is_file()]
    if missing:
        raise DataError(
            f"{source} has no {', '.join(missing)}: finish that run first, then share it"
        )
    written = []
    for name in SHARED:
        target = path(dest, name)
        data = path(source, name).read_bytes()
        if name in (STATUS, METRICS):
            record = json.loads(data)
            if "run" in record:
                record["run"] = str(dest)
            record["shared_from"] = str(source)
            atomic_write_json(target, record)
        else:
            atomic_write_bytes(target, data)
        written.append(target)
    return written
