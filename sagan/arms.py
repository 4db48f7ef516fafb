"""Arms: the named configurations a study compares, and the sweeps that expand into them.

An entry under a study's ``variants:`` is an arm: a name, the registered variant it builds
(``variant:``, default the entry's name), that variant's options, optional ``model:`` /
``train:`` overrides, an optional ``sweep:`` (option or override -> list of values; the grid
expands into one arm per point) and an optional ``source:`` that pins the variant source hash
its runs are keyed by (to keep results across an edit of the variant's code).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from sagan.errors import ConfigError
from sagan.study_checks import NAME_MAX

ARM_KEYS = ("variant", "model", "train", "sweep", "source")
OVERRIDES = ("model", "train")  # sections an arm (and a sweep, as "train.lr_g") may override
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Arm:
    name: str  # run folders, tables, figures and claims use it
    variant: str  # the registered variant it builds
    options: dict[str, Any] = field(default_factory=dict)  # that variant's builder options
    model: dict[str, Any] = field(default_factory=dict)  # over the study's model section
    train: dict[str, Any] = field(default_factory=dict)  # over the study's train section
    sweep: str = ""  # the entry it was expanded from ("" when not swept)
    point: dict[str, Any] = field(default_factory=dict)  # the swept values of this arm
    source: str = ""  # pinned variant source hash ("" = the current file's)


def expand_arms(variants: dict[str, Any]) -> dict[str, Arm]:
    """Every arm of a study's ``variants:`` section by name, sweeps expanded in grid order."""
    arms: dict[str, Arm] = {}
    for name, entry in variants.items():
        for arm in _expand(name, dict(entry or {})):
            if arm.name in arms:
                raise ConfigError(
                    f"variants.{name}: its sweep makes the arm name {arm.name!r}, which another "
                    "entry already has; rename one of them"
                )
            arms[arm.name] = arm
    return arms


def _expand(name: str, entry: dict[str, Any]) -> list[Arm]:
    sweep = entry.pop("sweep", None) or {}
    if not isinstance(sweep, dict):
        raise ConfigError(f"variants.{name}.sweep must map an option to a list of values")
    base = _arm(name, entry)
    if not sweep:
        return [base]
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(
                f"variants.{name}.sweep.{key} must be a non-empty list of values, got {values!r}"
            )
    arms = []
    for values in itertools.product(*sweep.values()):
        point = dict(zip(sweep, values, strict=True))
        arm = _arm(f"{name}.{point_label(point)}", _apply(entry, point, name))
        arms.append(Arm(**{**arm.__dict__, "sweep": name, "point": point}))
    names = [a.name for a in arms]
    if long := [n for n in names if len(n) > NAME_MAX]:
        raise ConfigError(
            f"variants.{name}.sweep: the arm name {long[0]!r} is {len(long[0])} characters, "
            f"longer than {NAME_MAX} (it names run folders); shorten the entry's name"
        )
    if len(set(names)) < len(names):
        raise ConfigError(f"variants.{name}.sweep: two points get one name ({names})")
    return arms


def _arm(name: str, entry: dict[str, Any]) -> Arm:
    options = {k: v for k, v in entry.items() if k not in ARM_KEYS}
    for section in OVERRIDES:
        if not isinstance(entry.get(section) or {}, dict):
            raise ConfigError(f"variants.{name}.{section} must be a mapping of overrides")
    if "source" in entry and not isinstance(entry["source"], str):
        raise ConfigError(
            f"variants.{name}.source must be the quoted hash the workflow printed "
            f'(source: "0123abcd"), got {entry["source"]!r}: unquoted digits read as a number'
        )
    if "seed" in (entry.get("train") or {}):
        raise ConfigError(
            f"variants.{name}.train.seed: the seed of a run is set by the study's seeds: (one "
            "run per seed, paired across arms); remove it here and list seeds there"
        )
    return Arm(
        name=name,
        variant=str(entry.get("variant", name.split(".")[0])),
        options=options,
        model=dict(entry.get("model") or {}),
        train=dict(entry.get("train") or {}),
        source=str(entry.get("source", "")),
    )


def _apply(entry: dict[str, Any], point: dict[str, Any], name: str) -> dict[str, Any]:
    """The entry with the point's values set: "key" is a variant option, "train.key" or
    "model.key" an override."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in entry.items()}
    for key, value in point.items():
        if key == "train.seed":
            raise ConfigError(
                f"variants.{name}.sweep.train.seed: seeds are not swept (an arm per seed would "
                "not pair with the other arms' seeds); list them in the study's seeds:"
            )
        section, _, sub = key.partition(".")
        if sub:
            if section not in OVERRIDES:
                raise ConfigError(
                    f"variants.{name}.sweep.{key}: only {', '.join(OVERRIDES)} keys may be "
                    "swept with a dot (e.g. train.lr_g)"
                )
            out[section] = {**(out.get(section) or {}), sub: value}
        elif key in ARM_KEYS:
            raise ConfigError(f"variants.{name}.sweep.{key}: {key!r} cannot be swept")
        else:
            out[key] = value
    return out


def point_label(point: dict[str, Any]) -> str:
    """A short, filesystem-safe, stable name of a sweep point: {"key_ratio": 4} -> "kr4",
    {"train.lr_g": 0.0002} -> "lg0.0002"; an option ending in "_resolutions" keeps only its
    first word (the slot variants' G sides [4] -> "g4")."""
    return ".".join(f"{_abbrev(k)}{_value(v)}" for k, v in point.items())


def _abbrev(key: str) -> str:
    last = key.split(".")[-1].removesuffix("_resolutions")
    words = last.split("_")
    return words[0] if len(words) == 1 else "".join(w[:1] for w in words)


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "_".join(_value(v) for v in value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return _UNSAFE.sub("", str(value)) or "x"
