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
    path = Path(run_dir) / "status.json"
    if not path.is_file():
        return {"state": "missing"}
    return json.loads(path.read_text())
