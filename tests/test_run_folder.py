"""One owner of the run folder: sagan.run_folder names its folders and files, nothing else."""

import re
from pathlib import Path

import pytest

from sagan import run_folder

REPO = Path(__file__).resolve().parents[1]
STATE_DIRS = (run_folder.CHECKPOINTS, run_folder.SAMPLE_GRIDS, run_folder.TENSORBOARD)


def spelled(name: str) -> re.Pattern:
    """A file ``name`` as a whole string literal or the last part of one ("x", f"{d}/x")."""
    return re.compile(rf"[\"'/]{re.escape(name)}[\"']")


def joined(folder: str) -> re.Pattern:
    """A state folder joined as a path part (state / "samples", "samples/iter_1.png") or
    named by a constant of its own (X = "samples"), not a word such as a TensorBoard tag
    ("samples") or one in a comment."""
    return re.compile(rf"[/=]\s*[\"']{folder}[\"']|[\"']{folder}/")


PATTERNS = [spelled(name) for name in (*run_folder.FILES, run_folder.LOCK)]
PATTERNS += [joined(folder) for folder in STATE_DIRS]


def test_no_library_or_workflow_file_spells_a_run_folder_name_but_its_owner():
    sources = [*REPO.glob("sagan/**/*.py"), *REPO.glob("workflow/rules/*.smk"), REPO / "Snakefile"]
    found = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sources
        if path.name != "run_folder.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(p.search(line) for p in PATTERNS)
    ]
    assert found == [], "use the names of sagan.run_folder:\n" + "\n".join(found)


def test_a_file_pattern_keeps_every_wildcard_and_its_state_lies_above_it():
    pattern = run_folder.pattern(run_folder.METRICS)
    assert pattern == run_folder.FOLDER + "/metrics.json"
    assert run_folder.state_of(run_folder.FOLDER) == run_folder.STATE
    out = run_folder.folder("st", "digits", "sagan-0123abcd", "full", 2, 400)
    assert out == "results/runs/st/digits/sagan-0123abcd/nfull/s2/i400"
    assert run_folder.state_of(out + "/") == "results/runs/st/digits/sagan-0123abcd/nfull/s2"


def test_a_name_that_is_not_a_run_folder_file_is_refused_with_where_the_names_are():
    with pytest.raises(
        ValueError, match=r"'metric.json' is not a run-folder file; run_folder.FILES"
    ):
        run_folder.path("results/runs/x", "metric.json")


def test_status_round_trips_through_its_file(tmp_path):
    run_folder.write_status(tmp_path, "diverged", iteration=7)
    assert (tmp_path / "status.json").is_file()
    status = run_folder.read_status(tmp_path)
    assert status["state"] == "diverged" and status["iteration"] == 7
    assert run_folder.read_status(tmp_path / "none")["state"] == "missing"
