"""A study whose runs partly fail still gets its summary and report: a failed run is a row
with its status and one-line reason (what the workflow's onerror hook builds)."""

from dataclasses import replace

import pandas as pd
import pytest

from sagan.cli import main
from sagan.config import save_run_config
from sagan.metrics.evaluate import evaluate
from sagan.report.aggregate import run_state
from sagan.train.trainer import train
from tests.test_train_evaluate import scored_setup, tiny_config  # noqa: F401 (a fixture)


@pytest.fixture
def study_runs(digits16, scored_setup, tmp_path):  # noqa: F811
    """results/runs/{done, failed, unevaluated, unstarted}: one run per outcome."""
    runs = tmp_path / "results" / "runs"
    cfg = tiny_config(digits16, scored_setup)
    for seed, name in enumerate(["done", "failed", "unevaluated", "unstarted"]):
        run_cfg = replace(cfg, train=replace(cfg.train, seed=seed))
        if name == "failed":  # fails at its first step, as a run meets a late error
            run_cfg = replace(run_cfg, data=replace(run_cfg.data, size=10**6))
        run = runs / name
        run.mkdir(parents=True)
        save_run_config(run_cfg, run / "config.yaml")  # rule run_config writes every one
        if name in ("done", "unevaluated"):
            train(run_cfg, run, progress=False)
        if name == "failed":
            with pytest.raises(Exception, match="exceeds"):
                train(run_cfg, run, progress=False)
        if name == "done":
            evaluate(run)
    return [runs / n for n in ("done", "failed", "unevaluated", "unstarted")]


def test_failed_runs_are_rows_with_their_status_and_the_report_still_builds(study_runs, tmp_path):
    summary = tmp_path / "results" / "summary.csv"
    assert main(["aggregate", *map(str, study_runs), "--out", str(summary)]) == 0
    rows = pd.read_csv(summary).set_index("seed").sort_index()
    assert rows["status"].tolist() == ["done", "failed", "unevaluated", "missing"]
    assert rows.loc[1, "reason"].startswith("ConfigError") and "exceeds" in rows.loc[1, "reason"]
    assert "evaluate.log" in rows.loc[2, "reason"]
    assert rows.loc[0, "fd_domain"] > 0 and rows.loc[[1, 2, 3], "fd_domain"].isna().all()

    reports = tmp_path / "reports"
    parts = ["--parts", "stats", "tables", "figures"]
    assert main(["report", str(summary.parent), "--out", str(reports), *parts]) == 0
    assert (reports / "tables" / "ablation.md").is_file()
    assert list((reports / "figures").glob("*.png"))
    stats = pd.read_csv(summary.parent / "summary_stats.csv")
    assert set(stats["n"]) == {1}  # only the run that finished is scored


def test_partial_report_summarises_what_finished_and_only_when_a_run_lacks_its_result(
    study_runs, tmp_path, capsys
):
    """`sagan partial-report`, which the workflow runs after a failure under --keep-going."""
    summary, reports = tmp_path / "results" / "summary.csv", tmp_path / "reports"
    args = ["--summary", str(summary), "--reports", str(reports), "--noise-floor", "/none.csv"]
    assert main(["partial-report", *map(str, study_runs), *args]) == 0
    rows = pd.read_csv(summary)  # the unstarted run has its config.yaml: a missing row
    assert sorted(rows["status"]) == ["done", "failed", "missing", "unevaluated"]
    assert (reports / "tables" / "ablation.md").is_file()
    assert not list(reports.glob("*.html"))  # the notebooks wait for the whole study

    summary.unlink()
    done = [str(study_runs[0]), str(tmp_path / "never")]  # finished, and never begun
    assert main(["partial-report", *done, *args]) == 0
    assert "no partial report is needed" in capsys.readouterr().out
    assert not summary.exists()


def test_a_reason_is_one_line_and_a_finished_run_has_none():
    failed = {"state": "failed", "reason": "ValueError: bad\n  traceback line"}
    assert run_state(failed, evaluated=False) == ("failed", "ValueError: bad")
    assert run_state({"state": "done"}, evaluated=True) == ("done", "")
    assert run_state({"state": "running"}, evaluated=False)[1].startswith("not finished")
    assert run_state({"state": "missing"}, evaluated=False) == ("missing", "")


def test_an_empty_reason_column_is_not_a_metric():
    from sagan.report.stats import numeric_metrics

    summary = pd.DataFrame({"status": ["done"], "reason": [float("nan")], "fd_domain": [1.0]})
    assert numeric_metrics(summary) == ["fd_domain"]


def test_the_report_finds_the_runs_from_any_folder_when_results_links_elsewhere(
    study_runs, tmp_path, monkeypatch
):
    """results/ a symlink to scratch space (as on a cluster), the summary listing runs
    relative to the workflow's folder, and `sagan report` called from another folder."""
    scratch, work, elsewhere = tmp_path / "scratch", tmp_path / "work", tmp_path / "elsewhere"
    (tmp_path / "results").rename(scratch)
    work.mkdir()
    elsewhere.mkdir()
    (work / "results").symlink_to(scratch, target_is_directory=True)
    monkeypatch.chdir(work)
    runs = [f"results/runs/{run.name}" for run in study_runs]
    assert main(["aggregate", *runs, "--out", "results/summary.csv"]) == 0
    monkeypatch.chdir(elsewhere)
    assert main(["report", "../work/results", "--out", "report", "--parts", "figures"]) == 0
    assert (elsewhere / "report/figures/sample_grids.png").stat().st_size > 1_000
