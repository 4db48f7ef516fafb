"""Where everything derived lives, keyed by what defines it.

Each folder carries a readable name plus a short hash of its settings (stylegan2-ada keys its
dataset statistics the same way), so two studies never collide and reverting a change finds
the old result:
- prepared data: results/data/<source>-r<res>-<hash of source, options, resolution, heldout>/
- a domain extractor: results/extractors/<data key>/domain-e<epochs>.pt
- reference features: results/features/<data key>/<extractor key>/<split>.pt
- the noise floor and extractor checks at a sample count beside them: floor-n<N>.csv,
  checks-n<N>.csv (a study's tables of them: sagan.report.outputs)
- a run: results/runs/<study>/<dataset>/<arm>-<hash>/n<size>/s<seed>/i<iterations>/ (its
  folders and files: sagan.run_folder).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = "results/data/{data}/images.pt"
EXTRACTOR = "results/extractors/{data}/{extractor}.pt"
REFERENCE = "results/features/{data}/{extractor}/{split}.pt"
NOISE_FLOOR = "results/features/{data}/{extractor}/floor-n{samples}.csv"
EXTRACTOR_CHECKS = "results/features/{data}/{extractor}/checks-n{samples}.csv"
STUDY_RESULTS = "results/{study}"  # a study's summary, statistics and cost outputs
STUDY_REPORTS = "reports/{study}"  # its tables, figures and executed notebooks

# Run-config keys that do not change what a run's weights are at a given iteration: a run
# folder is not keyed by them, so lengthening a run continues it and eval changes rescore it.
UNKEYED = (
    "study",
    "arm",
    "sweep",
    "sweep_point",
    "eval",
    "train.iterations",
    "train.log_every",
    "train.sample_every",
    "train.tensorboard",
)


# What only names a run (its study entry, arm and sweep point): runs that differ in these
# alone train and score the same thing, so a study trains one and shares its results.
LABELS = ("arm", "sweep", "sweep_point", "data.dataset")


def short_hash(settings: Any) -> str:
    """8 hex digits of the SHA-256 of the settings as canonical JSON."""
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def data_key(source: str, resolution: int, heldout: int, options: dict, version: int = 1) -> str:
    """The prepared data's key; a source's version enters it only once bumped past 1, so
    every key made before versions existed stays the same."""
    settings = {"source": source, "resolution": resolution, "heldout": heldout, "options": options}
    if version != 1:
        settings["version"] = version
    return f"{source}-r{resolution}-{short_hash(settings)}"


def run_key(config: dict[str, Any]) -> str:
    """The hash of everything in a resolved run config (a plain dict) that changes what is
    trained, except the size and seed, which the folder names itself."""
    keyed = _without(config, (*UNKEYED, "data.size", "train.seed"))
    return short_hash(_drop_off(keyed))


def result_key(config: dict[str, Any]) -> str:
    """The hash of everything in a resolved run config that shapes its results (size, seed,
    iterations and evaluation included), but not its labels: equal keys, equal results."""
    return short_hash(_drop_off(_without(config, LABELS)))


def _drop_off(node: Any) -> Any:
    """Without keys whose value is None (an optional feature switched off, such as
    ``train.progressive``): adding such a feature keeps every existing run's key."""
    if isinstance(node, dict):
        return {k: _drop_off(v) for k, v in node.items() if v is not None}
    return node


def _without(config: dict[str, Any], dotted: tuple[str, ...]) -> dict[str, Any]:
    out = json.loads(json.dumps(config, default=str))
    for key in dotted:
        *parents, last = key.split(".")
        node = out
        for p in parents:
            node = node.get(p, {})
        node.pop(last, None)
    return out


@cache
def source_hash(builder: Any) -> str:
    """The hash of the file that defines a builder (a variant's code): an edit makes new
    runs, unless the arm pins the old hash with ``source:``."""
    path = inspect.getsourcefile(builder)
    return short_hash(Path(path).read_text()) if path else ""
