"""The shipped studies' run folders do not move: a refactor that changed a run's key would
orphan every finished result of that study (found not done, trained again). The folders are
kept in tests/golden/; a change that means to re-key runs (a variant's code edited, a new
config field) rewrites them on purpose:

    python tests/test_run_keys_stable.py --write
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sagan.io import read_yaml
from sagan.study import parse_study, run_dir, runs

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
STUDIES = ("default", "paper", "table1", "video")


def run_dirs(name: str) -> list[str]:
    study = parse_study(read_yaml(REPO / "config" / f"{name}.yaml"))
    return [run_dir(study, run) for run in runs(study)]


@pytest.mark.parametrize("name", STUDIES)
def test_a_shipped_study_keeps_its_run_folders(name):
    kept = (GOLDEN / f"{name}_run_dirs.txt").read_text().split()
    now = run_dirs(name)
    moved = sorted(set(kept) ^ set(now))
    assert not moved, (
        f"config/{name}.yaml's run folders changed ({len(moved)} differ, first {moved[0]}): "
        "finished results would not be found. If that is meant, rewrite them with "
        "`python tests/test_run_keys_stable.py --write`"
    )
    assert now == kept  # and in the same order


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    for name in STUDIES:
        (GOLDEN / f"{name}_run_dirs.txt").write_text("\n".join(run_dirs(name)) + "\n")
        print(GOLDEN / f"{name}_run_dirs.txt")
