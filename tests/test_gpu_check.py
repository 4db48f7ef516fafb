"""The GPU check (.ci/gpu-check): its runner with fake steps, and the whole check, tiny, on
a CPU, so the command a lent card runs is never broken on the day one is lent."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))  # the check's modules import each other as scripts

from gpu_check import BUDGETS, RESULT, Step, read_summary, run_steps, step_result  # noqa: E402
from gpu_check_study import cut_down_study, default_study  # noqa: E402


def fake(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_step_that_hangs_is_killed_and_the_next_still_runs(tmp_path):
    wrote = tmp_path / "half.csv"
    hang = f"open({str(wrote)!r}, 'w').write('a,b\\n1,2\\n'); import time; time.sleep(60)"
    fail = "raise RuntimeError('the card fell over')\n"
    steps = [
        Step(1, "hangs", 1, fake(hang)),
        Step(2, "fails", 30, fake(fail)),
        Step(3, "passes", 30, fake(f"print('noise'); print('{RESULT}all good'); print('tail')")),
    ]
    rows = run_steps(steps, tmp_path)
    assert [r["status"] for r in rows] == ["timed out", "failed", "passed"]
    assert rows[0]["result"] == "timed out after 1 s" and rows[0]["seconds"] < 30
    assert rows[1]["result"] == "RuntimeError: the card fell over"
    assert rows[2]["result"] == "all good"
    assert wrote.read_text() == "a,b\n1,2\n"  # what the killed step wrote stays
    assert (tmp_path / "1-hangs.log").is_file()
    with (tmp_path / "summary.csv").open() as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["hangs", "fails", "passes"]
    assert "timed out after 1 s" in (tmp_path / "summary.md").read_text()


def test_a_rerun_replaces_the_rows_of_the_steps_it_ran_again(tmp_path):
    run_steps([Step(1, "a", 30, fake("raise SystemExit(1)")), Step(2, "b", 30, fake(""))], tmp_path)
    rows = run_steps([Step(1, "a", 30, fake(""))], tmp_path, read_summary(tmp_path))
    assert [(r["step"], r["status"]) for r in rows] == [("a", "passed"), ("b", "passed")]
    assert [r["step"] for r in read_summary(tmp_path)] == ["a", "b"]


def test_a_step_with_no_result_line_reports_its_last_line(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("start\nTraceback ...\nValueError: bad\n\n")
    assert step_result(log) == "ValueError: bad"
    log.write_text("")
    assert step_result(log) == "(no output)"


def test_the_full_budgets_leave_the_card_room():
    assert sum(full for full, _ in BUDGETS.values()) <= 9 * 60
    assert list(BUDGETS) == ["environment", "smoke", "attention", "throughput", "study", "estimate"]


def test_the_cut_down_study_is_the_defaults_first_entry_with_two_arms():
    default = default_study()
    study = cut_down_study(default, tiny=True)
    (name, entry), *others = study["datasets"].items()
    assert name == next(iter(default["datasets"])) and not others
    assert len(entry["variants"]) == 2 and set(study["variants"]) == set(entry["variants"])
    assert study["sizes"] == ["full"] and len(study["seeds"]) == 1
    assert study["train"]["iterations"] < default["train"]["iterations"]


@pytest.mark.slow  # the six steps, a Snakemake study among them: about a minute on 2 cores
def test_the_tiny_check_passes_every_step_on_cpu(tmp_path):
    out = tmp_path / "check"
    cmd = [str(REPO / ".ci" / "gpu-check"), "--device", "cpu", "--tiny", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    with (out / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == list(BUDGETS)
    assert all(r["status"] == "passed" for r in rows), rows
    for number, step in enumerate(BUDGETS, 1):
        assert (out / f"{number}-{step}.md").is_file() and (out / f"{number}-{step}.csv").is_file()
    summary = (out / "summary.md").read_text()
    assert all(f"| {step} |" in summary for step in BUDGETS)
