"""The defaults a study's sections fall back to, each stated once.

A key a study leaves out takes the value of the typed config that owns it (``sagan.config``:
``EvalConfig``, ``TrainConfig``) or of the profile's own defaults (``sagan.cost.plan``); the
study planner, the workflow, the forecast and the CLI read them here instead of spelling
"domain", 64 or "cpu" again (each had drifted into five or six places).
"""

from __future__ import annotations

from typing import Any

from sagan.config import EvalConfig, TrainConfig

DEFAULT_EXTRACTOR: str = EvalConfig.extractor
DEFAULT_BATCH_SIZE: int = TrainConfig.batch_size


def extractor_of(evaluation: dict[str, Any] | None) -> str:
    """The extractor an evaluation section names, or the default."""
    return (evaluation or {}).get("extractor", DEFAULT_EXTRACTOR)


def batch_size_of(study: dict[str, Any]) -> int:
    """The study's training batch size (its ``train.batch_size``), or the default."""
    return (study.get("train") or {}).get("batch_size", DEFAULT_BATCH_SIZE)


def profile_device(study: dict[str, Any], gpus: bool = False) -> str:
    """Where the cost profile runs: the study's ``profile.device``; else ``cuda`` when the
    workflow was given GPUs, the profile's default (``cpu``) when not."""
    from sagan.cost.plan import DEFAULTS

    asked = (study.get("profile") or {}).get("device")
    return asked or ("cuda" if gpus else DEFAULTS["device"])
