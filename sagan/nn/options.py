"""Checks of block options: each failure is one ConfigError (a ValueError) that names the
option and what it allows, raised when a variant is built, before any module exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sagan.errors import ConfigError


def check_choice(option: str, value: Any, allowed: Iterable[str]) -> str:
    """``value`` if it is one of ``allowed``, else a ConfigError listing them."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        names = ", ".join(map(repr, allowed))
        raise ConfigError(f"{option} must be one of {names}; got {value!r}")
    return value


def is_int(value: Any) -> bool:
    """An int that is not a bool (YAML's ``true`` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(option: str, value: Any, meaning: str = "") -> int:
    """``value`` if it is an int >= 1, else a ConfigError (``meaning`` says what it is for)."""
    if not is_int(value) or value < 1:
        why = f" ({meaning})" if meaning else ""
        raise ConfigError(f"{option} must be an int >= 1{why}; got {value!r}")
    return value
