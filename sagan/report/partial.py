"""A summary and report of the runs that finished, when others failed (``sagan
partial-report``, which the workflow runs once it ends under --keep-going).

A failed train or evaluate job skips only its own dependents, but the summary needs every
run's metrics.json, so one failed run would leave the study with no summary or report. This
aggregates every run folder that was begun as it stands (a failed run is a row with status
"failed" and its reason) and builds the tables and figures from it (not the notebooks). They
are not the workflow's outputs: the next run after a fix sees newer metrics.json and
rebuilds them in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sagan import run_folder

PARTS = ("stats", "tables", "figures")  # the notebooks wait for the whole study


def begun_runs(run_dirs: Iterable[str | Path]) -> list[str]:
    """The run folders a job has written to (their config.yaml is there)."""
    return [str(d) for d in run_dirs if run_folder.path(d, run_folder.CONFIG).is_file()]


def needs_partial_report(run_dirs: Iterable[str | Path]) -> bool:
    """Whether a begun run lacks its metrics.json: else every run has its result, and the
    failure was elsewhere (the rules build the summary)."""
    return not all(run_folder.path(d, run_folder.METRICS).is_file() for d in begun_runs(run_dirs))
