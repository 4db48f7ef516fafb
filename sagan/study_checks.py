"""Checks of a study's plain values that need no model: its name, seeds, resolutions and
the sizes a dataset can give. Each raises one ConfigError naming the key and the fix, so a
value that would fail in a late job (a file name too long, a seed that overflows an RNG,
more images than the dataset has) fails before any job starts."""

from __future__ import annotations

import inspect
import re
from typing import Any

from sagan.errors import ConfigError

NAME_MAX = 100  # characters: run paths nest the name in folders and file names
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")  # no slash, no leading dot
SEED_LIMIT = 2**32  # numpy's and torch's seeds must be below it


def is_int(value: Any) -> bool:
    """An int proper (YAML reads 16.0 as a float and true as a bool: neither counts)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_study_name(name: Any) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"study: {name!r} is not a usable name; use letters, digits, _ . - "
            "(no slash, no leading dot)"
        )
    if len(name) > NAME_MAX:
        raise ConfigError(
            f"study: the name is {len(name)} characters, longer than {NAME_MAX} (it is part "
            f"of every run's folder and file names); shorten it to at most {NAME_MAX}"
        )


def check_no_train_seed(document: dict[str, Any]) -> None:
    """``train.seed`` is the run's seed, set from ``seeds:``: one set in a section of the
    study's ``document`` (as read) would be overwritten by every run, silently."""
    entries = document.get("datasets") or {}
    sections = [("", document.get("train"))]
    sections += [(f"datasets.{n}.", (e or {}).get("train")) for n, e in entries.items()]
    for where, train in sections:
        if isinstance(train, dict) and "seed" in train:
            raise ConfigError(
                f"{where}train.seed: a run's seed is set by the study's seeds: (one run per "
                "seed, paired across arms), so this one would be ignored; remove it and list "
                "seeds under seeds:"
            )


def check_seeds(seeds: Any) -> None:
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    for seed in seeds:
        if not (is_int(seed) and 0 <= seed < SEED_LIMIT):
            raise ConfigError(
                f"seeds: {seed!r} is not an integer in [0, 2**32) (random generators take no "
                "other); use small non-negative integers, e.g. [0, 1, 2]"
            )


def check_pilot_seeds(seeds: list[int], pilots: Any) -> None:
    """A study's seeds must not be the ones its settings were tuned on: an effect measured on
    the seeds that chose the budget is biased towards the runs that looked good."""
    if pilots is None:
        return
    if not isinstance(pilots, list):
        raise ConfigError(f"pilot_seeds must be a list of integers, got {pilots!r}")
    reused = sorted(set(seeds) & set(pilots))
    if reused:
        raise ConfigError(
            f"seeds {reused} are also pilot_seeds (the runs the study's settings were chosen "
            "on); give the study seeds of its own"
        )


def check_positive(section: Any, where: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if getattr(section, key) < 1:
            raise ConfigError(
                f"{where}.{key} must be a positive integer, got {getattr(section, key)}"
            )


def check_sizes(sizes: list[Any], key: str) -> None:
    for size in sizes:
        if size != "full" and not (isinstance(size, int) and size > 0):
            raise ConfigError(f"{key}: {size!r} is not a positive integer or 'full'")


def check_resolution(resolution: Any, where: str) -> None:
    if not (is_int(resolution) and resolution >= 8):
        raise ConfigError(
            f"{where}.resolution must be an integer of at least 8 (image side in pixels, a "
            f"power of two), got {resolution!r}; write e.g. 32, not 32.0"
        )


def check_heldout(heldout: Any, where: str) -> None:
    if not (is_int(heldout) and heldout >= 1):
        raise ConfigError(
            f"{where}.heldout must be a positive integer (held-out images), got {heldout!r}"
        )


def known_count(entry: Any, options: dict[str, Any]) -> tuple[int, str] | None:
    """(images, where the number comes from) of a dataset known before it is built: its
    ``count`` option (or that option's default), else the count it registered; None for
    sources counted only when prepared (a folder, a download)."""
    params = inspect.signature(entry.builder).parameters
    if "count" in params:
        if "count" in options:
            return options["count"], f"its options.count {options['count']}"
        default = params["count"].default
        if is_int(default):
            return default, f"its default count {default}"
    if entry.count is not None:
        return entry.count, "a fixed set"
    return None


def check_counts(
    name: str, source: str, entry: Any, options: dict[str, Any], heldout: int, sizes: list
) -> None:
    """Held-out and training sizes against a dataset's known count, if it has one."""
    if "count" in options and not (is_int(options["count"]) and options["count"] > 0):
        raise ConfigError(
            f"datasets.{name}.options.count must be a positive integer, got {options['count']!r}"
        )
    known = known_count(entry, options)
    if known is None or not is_int(known[0]):
        return
    count, origin = known
    key = f"datasets.{name}"
    if heldout >= count:
        relation = "equal to" if heldout == count else "larger than"
        raise ConfigError(
            f"{key}.heldout {heldout} is {relation} the {count} images of dataset {source!r} "
            f"({origin}), which leaves no training images: make heldout at most {count - 1}"
        )
    pool = count - heldout
    for size in sizes:
        if is_int(size) and size > pool:
            raise ConfigError(
                f"{key}.sizes: {size} is more than the {pool} training images of dataset "
                f"{source!r} ({count} minus heldout {heldout}); use at most {pool} or 'full'"
            )


def smallest_training_set(sizes: list, count: int | None, heldout: int) -> int | None:
    """The fewest training images any run of a dataset gets (None where unknown)."""
    pools = [s for s in sizes if is_int(s)]
    if "full" in sizes and count is not None:
        pools.append(count - heldout)
    return min(pools) if pools else None


def check_batch_size(batch_size: int, smallest: int | None, where: str) -> None:
    if smallest is not None and batch_size > smallest:
        raise ConfigError(
            f"{where}train.batch_size {batch_size} is larger than the smallest training set "
            f"({smallest} images): make batch_size at most {smallest}, or drop the small size"
        )


# Snakemake reads a --configfile itself, with YTE: a top-level `__use_yte__: true` has it run
# the file's Python expressions before any of the workflow's code can look (it drops the key).
YTE_KEY = "__use_yte__"
TRUST_NOTE = (
    "Snakemake runs the Python in a study file that sets __use_yte__: true (YTE templating)"
    " as it reads it, before any check: run a study file only if you trust it like code"
)


def check_plain_study(study: Any, path: object) -> None:
    """A study file is plain YAML: refuse YTE's key (read with yaml.safe_load, which runs
    nothing), with the note on trust where Snakemake may already have run it."""
    if isinstance(study, dict) and YTE_KEY in study:
        raise ConfigError(
            f"{path}: {YTE_KEY}: a study is plain YAML, YTE templating is not supported;"
            f" remove the key and write the values out. {TRUST_NOTE}"
        )
