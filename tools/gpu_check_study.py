"""The GPU check's cut-down study: the default study, shrunk to two arms of one dataset.

Derived from config/default.yaml (not a copy), so the check follows the default as it
changes: its first dataset entry, that entry's first two arms, one size, few iterations
and a small evaluation.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
NAME = "gpu-check"

# tiny: the smallest study that still trains, scores and summarises (2-core CPU, ~1 min);
# full: a few hundred iterations, enough to see a GPU's per-job overheads under Snakemake
SHRINK = {
    True: {"seeds": 1, "iterations": 10, "samples": 100},
    False: {"seeds": 2, "iterations": 200, "samples": 500},
}


def cut_down_study(default: dict[str, Any], tiny: bool) -> dict[str, Any]:
    """``default`` (a study dict) with one dataset entry, two arms, the full size only."""
    shrink = SHRINK[tiny]
    study = copy.deepcopy(default)
    name, entry = next(iter(default["datasets"].items()))
    arms = list(entry.get("variants") or default["variants"])[:2]
    study["study"] = NAME
    study["datasets"] = {name: {**entry, "variants": arms, "sizes": ["full"]}}
    study["variants"] = {arm: default["variants"][arm] for arm in arms}
    study["sizes"] = ["full"]
    study["seeds"] = default["seeds"][: shrink["seeds"]]
    iterations = shrink["iterations"]
    study["train"] = (default.get("train") or {}) | {
        "iterations": iterations,
        "sample_every": iterations,
        "log_every": max(1, iterations // 10),
        "ema_start": 0,  # the default's start is past these few iterations
    }
    samples = shrink["samples"]
    study["evaluation"] = (default.get("evaluation") or {}) | {
        "num_samples": samples,
        "batch_size": samples,
    }
    study["extractor"] = (default.get("extractor") or {}) | {"epochs": 1}
    if tiny:  # the model, and the cost profile a forecast of this study times
        study["model"] = (default.get("model") or {}) | {"width": 8, "z_dim": 32}
        profile = default.get("profile") or {}
        scaling = (profile.get("scaling") or {}) | {"resolutions": [16, 32], "batch": 2}
        study["profile"] = profile | {"repeats": 1, "warmup": 0, "memory": False}
        study["profile"]["scaling"] = scaling
    return study


def default_study() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "default.yaml").read_text())


def throughput_study(tiny: bool) -> tuple[str, dict[str, Any]]:
    """(name, study) whose model the throughput bench trains: the paper's, as `sagan bench
    throughput` does by default; tiny: the cut-down study's."""
    if tiny:
        return "the cut-down default study", cut_down_study(default_study(), tiny=True)
    return "config/paper.yaml", yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())


def write_study(path: Path, tiny: bool) -> Path:
    """The cut-down study as YAML at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cut_down_study(default_study(), tiny), sort_keys=False))
    return path


def snakemake_command(
    python: str, config: Path, workdir: Path, device: str, summary: str
) -> list[str]:
    """The workflow to the study's summary, as a user runs it (on CUDA: one GPU)."""
    cmd = [python, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(config), "--cores", "all"]
    if device.startswith("cuda"):
        cmd += ["--resources", "gpu=1"]
    return [*cmd, summary]
