"""Study values given as text on a command line (``snakemake --config sizes=[1000,full]``
reads the values inside lists and mappings as strings: ``['1000', 'full']``), read as YAML
would read them in a study file. Only those overrides are re-read: a study file's own quoted
strings stay strings, as ``sagan validate`` reads them."""

from __future__ import annotations

from typing import Any

import yaml


def typed(value: Any) -> Any:
    """``value`` with each string that YAML reads as a number (or a boolean, which YAML
    counts as one) made that value."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, str):
        loaded = yaml.safe_load(value)
        return loaded if isinstance(loaded, int | float) else value
    return value


def retype_overrides(target: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Write ``overrides`` into ``target`` (in place), each value ``typed``; a mapping over a
    mapping goes key by key, so the keys it does not give keep the target's values."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            retype_overrides(target[key], value)
        else:
            target[key] = typed(value)
