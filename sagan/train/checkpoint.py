"""Training checkpoints: atomic, code-free (``torch.load(weights_only=True)``), the newest
valid one found again after a kill, and refused when they come from another config.

A checkpoint holds G, D, G's EMA, both optimisers, the grad scaler, every RNG (torch CPU and
CUDA, numpy, Python), the iteration, the data order and the log rows so far: enough for a
resumed run to end with the weights of an uninterrupted one.
"""

from __future__ import annotations

import random
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sagan.errors import ConfigError
from sagan.io import atomic_torch_save, atomic_write_text

CHECKPOINTS = "checkpoints"
NAME = re.compile(r"^iter_(\d+)\.pt$")
# config sections that do not change what training computes: a resume may differ in them
RESUME_FREE = {
    "eval",
    "study",
    "arm",
    "sweep",
    "sweep_point",
    "train.iterations",
    "train.log_every",
    "train.sample_every",
}
FINALS = "finals.txt"  # iterations a run ended at: kept through pruning, served again


def rng_state() -> dict[str, Any]:
    """Every RNG a run draws from, as tensors and plain values (no pickled objects)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": _plain(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _plain(x: Any) -> Any:
    return [_plain(v) for v in x] if isinstance(x, tuple | list) else x


def checkpoint_paths(run_dir: Path) -> list[Path]:
    """This run's checkpoints, oldest first."""
    folder = run_dir / CHECKPOINTS
    found = [(int(m.group(1)), p) for p in folder.glob("iter_*.pt") if (m := NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def _iteration(path: Path) -> int:
    return int(NAME.match(path.name).group(1))  # type: ignore[union-attr]


def final_iterations(run_dir: Path) -> set[int]:
    path = run_dir / CHECKPOINTS / FINALS
    return {int(x) for x in path.read_text().split()} if path.is_file() else set()


def save_checkpoint(
    run_dir: Path, iteration: int, state: dict[str, Any], keep: int = 2, *, final: bool = False
) -> Path:
    """Write iter_<n>.pt atomically (temp file, fsync, rename); keep the newest ``keep`` and
    every final one (the end of a run, so a shorter or reverted run is served its weights)."""
    path = run_dir / CHECKPOINTS / f"iter_{iteration:07d}.pt"
    atomic_torch_save(path, state)
    finals = final_iterations(run_dir) | ({iteration} if final else set())
    if final:
        atomic_write_text(run_dir / CHECKPOINTS / FINALS, "".join(f"{i}\n" for i in sorted(finals)))
    for old in checkpoint_paths(run_dir)[:-keep]:
        if _iteration(old) not in finals:
            old.unlink(missing_ok=True)
    return path


def load_latest(
    run_dir: Path, device: torch.device | str = "cpu", *, at_most: int | None = None
) -> dict[str, Any] | None:
    """The newest checkpoint that loads (at iteration ``at_most`` or before); a truncated or
    corrupt one is skipped with a warning.

    weights_only=True: a checkpoint that holds a pickled object is refused, never run."""
    paths = checkpoint_paths(run_dir)
    if at_most is not None:
        paths = [p for p in paths if _iteration(p) <= at_most]
    for path in reversed(paths):
        try:
            return torch.load(path, weights_only=True, map_location=device)
        except Exception as err:  # truncated, corrupt, or holding code: try the one before
            warnings.warn(
                f"checkpoint {path} cannot be loaded ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:200]}); falling back to the previous one",
                stacklevel=2,
            )
    return None


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ, except those a resume may change (RESUME_FREE)."""
    diffs = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if key in RESUME_FREE:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            sub = config_differences(
                {f"{key}.{k}": v for k, v in a.items()}, {f"{key}.{k}": v for k, v in b.items()}
            )
            diffs += sub
        elif a != b:
            diffs.append(f"{key}: checkpoint has {a!r}, config has {b!r}")
    return diffs


def check_resumable(saved_config: dict[str, Any], current: dict[str, Any], run_dir: Path) -> None:
    diffs = config_differences(saved_config, current)
    if diffs:
        raise ConfigError(
            f"{run_dir} holds checkpoints of another config; refusing to resume "
            f"(nothing was changed). Differences: {'; '.join(diffs)}. Use a new run "
            "directory, or delete its checkpoints/ folder to start over."
        )
