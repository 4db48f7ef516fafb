"""``sagan estimate`` end to end: ask the workflow's dry run what is left, time those pieces
(saying which, on stderr), and print the forecast with the machine's load while timing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sagan import run_folder
from sagan.forecast.dry_run import DryRunError, pending_jobs
from sagan.forecast.estimate import Forecast, Timer, forecast, format_forecast
from sagan.forecast.load import Load, format_load, load_average
from sagan.forecast.progress import Announced, Counting

if TYPE_CHECKING:
    from sagan.study.model import Study
    from sagan.study.plan import Run


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


# What each per-run rule leaves in the run's folder when it is done (rules train, evaluate)
RUN_OUTPUTS = {
    "train": (run_folder.CHECKPOINT, run_folder.LOG, run_folder.SAMPLES),
    "evaluate": (run_folder.METRICS,),
}


def runs_left(study: Study, pending: dict[str, int] | None) -> dict[str, set[Run]]:
    """For train and evaluate, the runs whose job is left: the trained (not shared) runs
    missing one of that job's files here. A rule whose count of them is not the dry run's
    (Snakemake also reruns for newer inputs) is left out: it counts as its share of runs."""
    from sagan.study import run_dir, runs, shared_runs

    if pending is None:
        return {}
    shared = shared_runs(study)  # resolves every run: once, not per run
    trained = [r for r in runs(study) if r not in shared]
    folders = {run: Path(run_dir(study, run)) for run in trained}
    left = {
        rule: {r for r, d in folders.items() if not all((d / f).exists() for f in files)}
        for rule, files in RUN_OUTPUTS.items()
    }
    return {rule: v for rule, v in left.items() if len(v) == pending.get(rule, 0)}


def estimate(
    study: Study,
    study_file: str | Path,
    timer: Timer,
    device_name: str,
    *,
    cores: int,
    all_jobs: bool = False,
    on_cpu: bool = True,
    progress: TextIO | None = None,
    share: Callable[[], tuple[float, float, float]] | None = None,
    **options: Any,
) -> tuple[Forecast, str]:
    """The forecast of what is left of ``study`` and its printed text. ``options``: those of
    ``forecast`` (devices, jobs_per_device, speedup, cpu_cores, profile_device). ``share``:
    measures a job's speed with every core busy over alone (default: ``core_share`` on the
    study's first run); on a CPU it sets the speedup of K jobs unless one is given."""
    progress = progress or sys.stderr  # as it is now (a test captures it)
    print("asking snakemake -n what is left to do...", file=progress, flush=True)
    pending, counted = what_is_left(study_file, all_jobs)
    counter = Counting()
    # the very runs left, where the files agree with the dry run: not a share of all runs
    options = {**options, "pending": pending, "runs_left": runs_left(study, pending)}
    forecast(study, counter, **options)  # no timing: the pieces' count
    before = load_average()
    result = forecast(study, Announced(timer, counter.asked, progress), **options)
    lines = [counted]
    if counter.asked and cores > 1:
        print(f"timing {cores} job start-ups at once...", file=progress, flush=True)
        measured = (share or (lambda: _first_run_share(study, cores)))()
        given = options.get("speedup") is not None
        result, line = with_core_share(result, measured, cores, on_cpu and not given)
        lines.append(line)
    load = Load(before, load_average(), cores)
    lines += format_load(load) if counter.asked else ["nothing left to time"]
    # the wall-clock stays the last line of the forecast proper (notes apart)
    text = "\n".join([*lines, "", format_forecast(result, device_name)])
    return result, text


def with_core_share(
    f: Forecast, measured: tuple[float, float, float], cores: int, set_speedup: bool
) -> tuple[Forecast, str]:
    """The forecast with the measured share of a core (the report jobs run on every core);
    with ``set_speedup`` and K >= cores model jobs at once on the CPU, their speedup too."""
    fraction, alone, together = measured
    line = (
        f"{cores} jobs at once on the CPU's {cores} cores: each at {fraction:.2f} of its speed "
        f"alone ({cores} job start-ups at once took {together:.1f} s, one alone {alone:.1f} s)"
    )
    if set_speedup and f.jobs_per_device >= cores:  # every core busy with model jobs
        f = replace(f, speedup=f.jobs_per_device * fraction)
    return replace(f, cpu_share=fraction), line


def _first_run_share(study: Study, cores: int) -> tuple[float, float, float]:
    from sagan.forecast.estimate import data_shape
    from sagan.forecast.starts import core_share
    from sagan.study import run_config, runs

    first = runs(study)[0]
    return core_share(run_config(study, first), data_shape(study, first.dataset).meta(), cores)
