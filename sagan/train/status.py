"""status.json: what state a run is in, and why."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sagan.io import atomic_write_json

STATES = ("running", "done", "diverged", "failed")


def write_status(run_dir: str | Path, state: str, **fields: Any) -> dict[str, Any]:
    assert state in STATES, state
    status = {"state": state, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields}
    atomic_write_json(Path(run_dir) / "status.json", status)
    return status


def read_status(run_dir: str | Path) -> dict[str, Any]:
    """The run's status; ``missing`` without a file, ``unknown`` (and why) for a corrupt one,
    so that one damaged file costs its run's status, never the whole study's summary."""
    path = Path(run_dir) / "status.json"
    if not path.is_file():
        return {"state": "missing"}
    try:
        status = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        status = None  # JSONDecodeError is a ValueError
    if not isinstance(status, dict) or not isinstance(status.get("state"), str):
        reason = f"{path} is unreadable or has no state; delete it and re-run the run's training"
        return {"state": "unknown", "reason": reason}
    return status
