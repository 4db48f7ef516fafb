"""``sagan estimate`` end to end: ask the workflow's dry run what is left, time those pieces
(saying which, on stderr), and print the forecast with the machine's load while timing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from sagan.forecast.dry_run import DryRunError, pending_jobs
from sagan.forecast.estimate import Forecast, Timer, forecast, format_forecast
from sagan.forecast.load import Load, format_load, load_average
from sagan.forecast.progress import Announced, Counting


def what_is_left(study_file: str | Path, all_jobs: bool) -> tuple[dict[str, int] | None, str]:
    """The jobs per rule left to run (None: count every job), and a line that says which."""
    if all_jobs:
        return None, "counted: every job of the study (--all-jobs)"
    try:
        pending = pending_jobs([Path(study_file).resolve()])
    except DryRunError as err:
        return None, f"counted: every job of the study, done or not ({err})"
    return pending, (
        f"counted: the {sum(pending.values())} job(s) `snakemake -n` would run here "
        "(finished runs, prepared data and extractors on disk are left out)"
    )


def estimate(
    study: dict[str, Any],
    study_file: str | Path,
    timer: Timer,
    device_name: str,
    *,
    cores: int,
    all_jobs: bool = False,
    progress: TextIO | None = None,
    **options: Any,
) -> tuple[Forecast, str]:
    """The forecast of what is left of ``study`` and its printed text. ``options``: those of
    ``forecast`` (devices, jobs_per_device, speedup, cpu_cores, profile_device)."""
    progress = progress or sys.stderr  # as it is now (a test captures it)
    print("asking snakemake -n what is left to do...", file=progress, flush=True)
    pending, counted = what_is_left(study_file, all_jobs)
    counter = Counting()
    forecast(study, counter, pending=pending, **options)  # no timing: the pieces' count
    before = load_average()
    result = forecast(study, Announced(timer, counter.asked, progress), pending=pending, **options)
    load = Load(before, load_average(), cores)
    timed = format_load(load) if counter.asked else ["nothing left to time"]
    # the wall-clock stays the last line of the forecast proper (notes apart)
    text = "\n".join([counted, *timed, "", format_forecast(result, device_name)])
    return result, text
