"""The workflow's own dry run: which jobs Snakemake would run now, per rule.

The boundary between ``sagan estimate`` and the workflow: it only runs the ``snakemake``
program (``-n``, in the project folder, with the study's ``--configfile``) and reads the job
stats table it prints. Finished runs, prepared data and extractors already on disk are not in
that table, so the forecast counts only what is left to do.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

NOTHING_TO_DO = "Nothing to be done"
# a row of the table: rule name, spaces, count ("total" ends it)
_ROW = re.compile(r"^(\w+)\s+(\d+)\s*$")
TIMEOUT = 900  # seconds; the paper study's DAG builds in well under a minute


class DryRunError(RuntimeError):
    """The dry run could not say what is left (no snakemake, a failing workflow)."""


def parse_job_stats(text: str) -> dict[str, int]:
    """Jobs per rule from the first "Job stats:" table of a dry run's output ({} when it says
    nothing is left to do); the ``all`` target rule and the total are left out."""
    if "Job stats:" not in text:
        if NOTHING_TO_DO in text:
            return {}
        raise DryRunError("the dry run printed neither its job stats nor 'Nothing to be done'")
    counts: dict[str, int] = {}
    for line in text.split("Job stats:", 1)[1].splitlines()[3:]:  # past the header rows
        row = _ROW.match(line.strip())
        if row is None or row[1] == "total":
            break
        counts[row[1]] = int(row[2])
    counts.pop("all", None)
    return counts


def pending_jobs(
    configfiles: list[str | Path], snakefile: str | Path = "Snakefile", cwd: str | Path = "."
) -> dict[str, int]:
    """Jobs per rule that ``snakemake -n`` in ``cwd`` would run for the study."""
    snakefile = Path(cwd, snakefile)
    if not snakefile.is_file():
        raise DryRunError(f"no {snakefile} here (run estimate in the project folder)")
    command = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules"]
    command += ["--snakefile", str(snakefile), "--configfile", *map(str, configfiles)]
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise DryRunError(f"snakemake -n took over {TIMEOUT} s") from err
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DryRunError(f"snakemake -n failed ({last})")
    return parse_job_stats(done.stdout + done.stderr)
