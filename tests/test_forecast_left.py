"""sagan estimate counts what is left (the workflow's dry run), each job's measured start-up,
says what it is timing, and how loaded the machine was."""

import dataclasses
import io
from pathlib import Path

import pytest

from sagan.data.meta import DataMeta
from sagan.forecast import dry_run
from sagan.forecast.command import estimate, what_is_left, with_core_share
from sagan.forecast.dry_run import DryRunError, parse_job_stats, pending_jobs
from sagan.forecast.estimate import NOTEBOOK_CELLS, QUIET_REPORT_START, forecast
from sagan.forecast.load import Load, format_load
from sagan.forecast.progress import Announced, Counting
from sagan.forecast.starts import model_job_start, model_job_starts_at_once, notebook_run
from sagan.study.model import parse_study
from tests.test_estimate import SHAPES, STUDY, FixedTimer, tiny_forecast, tiny_run

# The head of a real `snakemake -n --quiet rules` of a tiny study (the table is printed twice:
# before the jobs and after them).
DRY_RUN = """Building DAG of jobs...
Job stats:
job                   count
------------------  -------
cost_study                1
prepare_dataset           1
run_config                4
train                     4
evaluate                  4
notebook                  5
all                       1
total                    20

Job stats:
job                   count
------------------  -------
cost_study                1
total                    99

This was a dry-run (flag -n). The order of jobs does not reflect the order of execution.
"""
FINISHED = """Building DAG of jobs...
Nothing to be done (all requested files are present and up to date).
"""


def test_the_dry_runs_job_stats_are_read_per_rule():
    assert parse_job_stats(DRY_RUN) == {
        "cost_study": 1,
        "prepare_dataset": 1,
        "run_config": 4,
        "train": 4,
        "evaluate": 4,
        "notebook": 5,
    }
    assert parse_job_stats(FINISHED) == {}
    with pytest.raises(DryRunError, match="neither its job stats"):
        parse_job_stats("Building DAG of jobs...\n")


def test_a_failed_dry_run_falls_back_to_every_job_and_says_why(tmp_path, monkeypatch):
    with pytest.raises(DryRunError, match="no .*Snakefile here"):
        pending_jobs(["s.yaml"], cwd=tmp_path)
    (tmp_path / "Snakefile").write_text("raise ValueError('broken workflow')\n")
    with pytest.raises(DryRunError, match="snakemake -n failed"):
        pending_jobs(["s.yaml"], cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    pending, line = what_is_left("s.yaml", all_jobs=False)
    assert pending is None and line.startswith("counted: every job of the study, done or not (")


def test_a_finished_study_forecasts_nothing_left_and_times_nothing():
    timer = FixedTimer()
    f = tiny_forecast(timer, pending={})
    assert f.wall_seconds == 0 and sum(f.seconds.values()) == 0 and f.runs == 0
    assert sum(timer.asked.values()) == 0  # nothing left: nothing timed


def test_only_the_jobs_left_are_counted():
    every = tiny_forecast()
    left = tiny_forecast(pending={"train": 1, "evaluate": 2, "notebook": 5})
    assert left.jobs["train"] == left.runs == 1 and left.jobs["prepare_dataset"] == 0
    assert left.seconds["train"] == pytest.approx(every.seconds["train"] / every.jobs["train"])
    assert left.seconds["notebook"] == pytest.approx(every.seconds["notebook"])
    assert left.seconds["prepare_dataset"] == left.seconds["profile"] == 0
    # the chain: no prepare, extractor or reference job is left, only a run and its scoring
    # (the longest: pairs' 30 iterations at 0.5 s, then an evaluation; each job starts in 2 s)
    assert left.critical_seconds == pytest.approx((2.0 + 30 * 0.5) + (2.0 + 3.0))
    extractors = tiny_forecast(pending={"train_extractor": 2})  # the data is prepared
    assert extractors.critical_seconds == pytest.approx(2.0 + 2 * 5.0)  # start, 2 epochs
    assert left.wall_seconds < every.wall_seconds


def test_the_very_runs_left_are_timed_not_their_share_of_all_runs(tmp_path, monkeypatch):
    """A study stopped part-way: the runs left are the slow ones (pairs' sagan, 30
    iterations at 0.5 s), not an average run; they are found from their folders' files."""
    from sagan import run_folder
    from sagan.forecast.command import runs_left
    from sagan.study import run_dir, runs, shared_runs

    study = parse_study(STUDY)
    trained = [r for r in runs(study) if r not in shared_runs(study)]
    slow = {r for r in trained if r.dataset == "pairs"}
    monkeypatch.chdir(tmp_path)
    for run in set(trained) - slow:  # every other run trained and scored
        folder = Path(run_dir(study, run))
        folder.mkdir(parents=True)
        for name in run_folder.FINISHED:
            (folder / name).write_text("done")
    pending = {"train": len(slow), "evaluate": len(slow)}
    left = runs_left(study, pending)
    assert left == {"train": slow, "evaluate": slow}
    f = tiny_forecast(pending=pending, runs_left=left)
    assert f.seconds["train"] == pytest.approx(len(slow) * (2.0 + 30 * 0.5))
    share = tiny_forecast(pending=pending)  # what the rule's share of all runs would say
    assert share.seconds["train"] < 0.8 * f.seconds["train"]
    # files that disagree with the dry run (it reruns a run whose inputs changed): a share
    assert runs_left(study, {"train": len(slow) + 1, "evaluate": len(slow)}) == {"evaluate": slow}


class LoadedTimer(FixedTimer):
    """Report jobs start twice as slowly as on the quiet CPU; scoring while training costs."""

    def report_startup(self) -> float:
        return 2 * QUIET_REPORT_START

    def during_score(self, cfg, shape) -> float:
        return 0.75


def test_start_ups_and_scores_while_training_are_added_to_each_job():
    quiet, loaded = tiny_forecast(), tiny_forecast(LoadedTimer())
    # six FDs while training (the default for 10 iterations) in each trained run
    assert loaded.seconds["train"] - quiet.seconds["train"] == pytest.approx(quiet.runs * 6 * 0.75)
    # the fixed seconds of the report jobs follow how slowly a report job starts now
    assert loaded.seconds["aggregate"] == pytest.approx(2 * quiet.seconds["aggregate"])
    notebook = 2 * QUIET_REPORT_START + 4.0 + 2 * NOTEBOOK_CELLS
    assert loaded.seconds["notebook"] == pytest.approx(notebook * loaded.jobs["notebook"])


def test_progress_counts_each_piece_against_the_first_passes_total():
    counter = Counting()
    forecast(parse_study(STUDY), counter, shape_of=SHAPES.__getitem__)
    out = io.StringIO()
    timer = FixedTimer()
    forecast(parse_study(STUDY), Announced(timer, counter.asked, out), shape_of=SHAPES.__getitem__)
    lines = out.getvalue().splitlines()
    assert len(lines) == counter.asked == sum(timer.asked.values())
    assert lines[0] == f"timing a job's start-up on digits (1/{counter.asked})..."
    assert f"timing train on digits/sagan (5/{counter.asked})..." in lines


def test_the_load_while_timing_is_reported_with_a_warning_above_the_cores():
    quiet = format_load(Load(0.4, 1.2, cores=2))
    assert quiet == ["machine load while timing: load average 0.4 before, 1.2 after, on 2 core(s)"]
    busy = format_load(Load(1.5, 2.5, cores=2))
    assert busy[1].startswith("warning: the load (2.5) exceeded the 2 core(s) while timing")


def test_the_estimate_says_what_it_counted(monkeypatch):
    monkeypatch.setattr(dry_run, "pending_jobs", lambda *a, **k: {})
    monkeypatch.setattr("sagan.forecast.command.pending_jobs", lambda *a, **k: {})
    f, text = estimate(
        parse_study(STUDY), "s.yaml", FixedTimer(), "test CPU", cores=1, progress=io.StringIO(),
        shape_of=SHAPES.__getitem__,
    )  # fmt: skip
    assert f.wall_seconds == 0
    assert text.startswith("counted: the 0 job(s) `snakemake -n` would run here")
    assert text.splitlines()[1] == "nothing left to time"
    assert "wall-clock on 1 device(s) x 1 job(s)" in text.splitlines()[-1]


def test_a_model_jobs_start_is_timed_in_a_fresh_process():
    """The process imports, builds the run's models and exits; a broken start is an error."""
    seconds = model_job_start(tiny_run(), DataMeta(16, 1, 10))
    assert 0 < seconds < 120
    unknown = dataclasses.replace(tiny_run(), variant="nope")  # its start cannot build the models
    with pytest.raises(RuntimeError, match="a timed job start failed: .*'nope'"):
        model_job_starts_at_once(unknown, DataMeta(16, 1, 10), 1)


def test_the_cores_share_sets_the_speedup_of_k_jobs_on_a_busy_cpu():
    f = tiny_forecast(jobs_per_device=2, cpu_cores=2)
    shared, line = with_core_share(f, (0.5, 2.0, 4.0), cores=2, set_speedup=True)
    assert shared.speedup == 1.0 and shared.cpu_share == 0.5
    assert line.startswith("2 jobs at once on the CPU's 2 cores: each at 0.50 of its speed")
    assert shared.report_wall_seconds > f.report_wall_seconds  # the report jobs share too
    assert shared.wall_seconds > f.wall_seconds
    given, _ = with_core_share(f, (0.5, 2.0, 4.0), cores=2, set_speedup=False)  # --speedup
    assert given.speedup == f.speedup == 2
    one = tiny_forecast(jobs_per_device=1, cpu_cores=2)  # a core left idle: no contention
    assert with_core_share(one, (0.5, 2.0, 4.0), cores=2, set_speedup=True)[0].speedup == 1


@pytest.mark.slow
def test_a_notebook_jobs_start_runs_papermill_and_nbconvert():
    assert 0 < notebook_run() < 300


def test_a_given_speedup_is_kept_and_the_measured_share_sets_one_otherwise():
    def run(**kw):
        return estimate(
            parse_study(STUDY), "s.yaml", FixedTimer(), "test CPU", cores=2, all_jobs=True,
            progress=io.StringIO(), share=lambda: (0.5, 2.0, 4.0), jobs_per_device=2,
            shape_of=SHAPES.__getitem__, **kw,
        )[0]  # fmt: skip

    assert run(speedup=1.5).speedup == 1.5 and run().speedup == 1.0
