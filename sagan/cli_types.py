"""argparse ``type=`` checks of the ``sagan`` command's arguments: a bad value is refused
with argparse's one-line usage error (exit 2) before any work starts."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

DEVICE = re.compile(r"^(cpu|cuda|cuda:\d+|mps)$")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1 (sizes, counts, repeats, threads)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def nonneg_int(text: str) -> int:
    """A whole number of at least 0 (seeds)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """A number above 0 (a speed-up)."""
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} must be above 0")
    return value


def fraction(text: str) -> float:
    """A number in (0, 1] (the share of keys top-k keeps)."""
    value = _float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} must be in (0, 1]")
    return value


def device(text: str) -> str:
    """A torch device this command knows: cpu, cuda, cuda:N or mps."""
    if not DEVICE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use cpu, cuda, cuda:N or mps")
    return text


def existing_file(text: str) -> str:
    """A path to a file that exists."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, expected a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text} does not exist; check the path")
    return text


def existing_dir(text: str) -> str:
    """A path to a folder that exists."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, expected a folder")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"folder {text} does not exist; check the path")
    return text


def json_object(text: str) -> dict[str, Any]:
    """A JSON object, e.g. '{"root": "~/data"}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not valid JSON ({err})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object ({{...}})")
    return value


def known_dataset(text: str) -> str:
    """A registered dataset name (``sagan datasets`` lists them)."""
    from sagan.data import DATASETS  # here: it loads torch, which --help does not need

    if text not in DATASETS.names():
        known = ", ".join(DATASETS.names())
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; known: {known}")
    return text


def token_spec(text: str) -> str:
    """A square token count (4096) or a clip TxHxW (16x16x16), with at least one token."""
    from sagan.bench.attention import token_map

    try:
        tokens = token_map(text)[0]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if tokens < 1:
        raise argparse.ArgumentTypeError(f"{text!r} has no tokens; use a square count >= 1")
    return text
