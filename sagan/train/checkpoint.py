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

from sagan.errors import ConfigError, DataError
from sagan.io import atomic_torch_save, atomic_write_text
from sagan.run_folder import CHECKPOINTS

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
    "train.tensorboard",
}
FINALS = "finals.txt"  # iterations a run ended at: kept through pruning, served again
UNREADABLE = ".unreadable"  # suffix of a checkpoint that failed to load, moved aside


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
    if not path.is_file():
        return set()
    words = path.read_text(errors="replace").split()
    if bad := [w for w in words if not w.isdigit()]:
        raise DataError(
            f"{path} is damaged ({bad[0][:20]!r} is no iteration): it lists the iterations the "
            "run ended at, one per line; list the final iter_*.pt numbers again, or delete it "
            "(then only the newest checkpoints are kept when pruning)"
        )
    return {int(w) for w in words}


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
    _prune(run_dir, iteration, keep, finals)
    return path


def _prune(run_dir: Path, newest: int, keep: int, finals: set[int]) -> None:
    """Delete all but the newest ``keep`` checkpoints at or before ``newest``, and never a
    final one. Only files that load are counted or deleted: a name alone (a stray
    iter_9999999.pt) must not push valid checkpoints out. One that does not load is moved
    aside; a later one that loads belongs to a longer run of this config and is left alone."""
    loadable = [p for p in checkpoint_paths(run_dir) if _loads(p, "not counted")]
    ours = [p for p in loadable if _iteration(p) <= newest]
    for old in ours[:-keep]:
        if _iteration(old) not in finals:
            old.unlink(missing_ok=True)


def _loads(path: Path, then: str) -> bool:
    """Whether ``path`` loads as a checkpoint; if not, it is moved aside (see move_aside).
    mmap reads the archive's structure and not its tensors, so checking is cheap."""
    try:
        torch.load(path, weights_only=True, map_location="cpu", mmap=True)
    except Exception:
        try:  # mmap needs the zip format; a file in another one may still load
            torch.load(path, weights_only=True, map_location="cpu")
        except Exception as err:
            move_aside(path, err, then)
            return False
    return True


def move_aside(path: Path, err: BaseException, then: str) -> Path | None:
    """Rename an unloadable checkpoint to <name>.unreadable (never deleted: it may be the
    only copy of something), with one warning that names it. Returns the new path."""
    aside = path.with_name(f"{path.name}{UNREADABLE}")
    n = 0
    while aside.exists():  # an earlier file of that name was moved aside: keep it too
        n += 1
        aside = path.with_name(f"{path.name}{UNREADABLE}.{n}")
    try:
        path.rename(aside)
        where = f"moved aside to {aside.name}"
    except OSError as move_err:
        aside, where = None, f"left in place ({_first_line(move_err)})"
    warnings.warn(
        f"checkpoint {path} cannot be loaded ({_first_line(err)}); {where}; {then}",
        stacklevel=3,
    )
    return aside


def _first_line(err: BaseException) -> str:
    """``Type: first line of the message``; an empty message (EOFError of a 0-byte file)
    gives the type alone."""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:200]}" if lines else type(err).__name__


def load_latest(
    run_dir: Path, device: torch.device | str = "cpu", *, at_most: int | None = None
) -> dict[str, Any] | None:
    """The newest checkpoint that loads (at iteration ``at_most`` or before); a truncated,
    empty or corrupt one is moved aside with a warning and the one before it is tried.

    weights_only=True: a checkpoint that holds a pickled object is refused, never run."""
    paths = checkpoint_paths(run_dir)
    if at_most is not None:
        paths = [p for p in paths if _iteration(p) <= at_most]
    for path in reversed(paths):
        try:
            return torch.load(path, weights_only=True, map_location=device)
        except Exception as err:  # truncated, corrupt, or holding code: try the one before
            move_aside(path, err, "falling back to the previous one")
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
