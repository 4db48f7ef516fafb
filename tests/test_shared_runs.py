"""Runs that differ only by their labels are trained and scored once, and shared.

A placement sweep's baseline point (place.g8 is the sagan arm) and one arm in two dataset
entries of the same data (digits-place/dcgan is digits/dcgan at full size) are the same
runs; the default study would otherwise train each twice.
"""

import copy
import json
from pathlib import Path

import pytest

from sagan import run_folder
from sagan.errors import DataError
from sagan.io import read_yaml
from sagan.study import Run, run_dir, shared_runs
from sagan.study.model import parse_study

REPO = Path(__file__).resolve().parents[1]
DEFAULT = read_yaml(REPO / "config/default.yaml")


def test_the_default_study_shares_the_sweeps_baseline_point_and_the_second_entrys_baseline():
    shared = shared_runs(parse_study(DEFAULT))
    expected = {}
    for seed in DEFAULT["seeds"]:
        expected[Run("digits-place", "dcgan", "full", seed)] = Run("digits", "dcgan", "full", seed)
        expected[Run("digits-place", "place.g8", "full", seed)] = Run(
            "digits", "sagan", "full", seed
        )
        expected[Run("digits-topk", "sagan", "full", seed)] = Run("digits", "sagan", "full", seed)
    assert shared == expected
    # each keeps its own folder (its own labels in its config), the results come from the other
    for run, first in shared.items():
        assert run_dir(parse_study(DEFAULT), run) != run_dir(parse_study(DEFAULT), first)


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["datasets"]["digits-place"].update(evaluation={"num_samples": 400}),
        lambda s: s["datasets"]["digits-place"].update(train={"iterations": 300}),
        lambda s: s["datasets"]["digits-place"].update(heldout=300),  # other data
    ],
    ids=["its own evaluation", "its own length", "its own held-out split"],
)
def test_an_entry_that_trains_or_scores_differently_shares_nothing(edit):
    study = copy.deepcopy(DEFAULT)
    edit(study)
    shared = shared_runs(parse_study(study))
    assert not any(run.dataset == "digits-place" and run.arm == "dcgan" for run in shared)
    # the sweep's baseline point differs from sagan the same way; digits-topk still shares
    assert not any(run.dataset == "digits-place" for run in shared)
    assert all(run.dataset == "digits-topk" for run in shared)


def test_a_shared_run_never_claims_another_seed(monkeypatch):
    """Today the seed is in the result key, so only a label could differ; should a key ever
    miss it (a sweep over train.seed did, before it was refused), the study is refused
    instead of making rows that claim seeds they never trained."""
    from sagan import layout
    from sagan.errors import ConfigError

    monkeypatch.setattr(layout, "result_key", lambda config: str(config["data"]["size"]))
    with pytest.raises(ConfigError, match=r"would copy the results of .*\(seed \d+, size"):
        shared_runs(parse_study(DEFAULT))


def finished_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in (run_folder.CHECKPOINT, run_folder.LOG, run_folder.SAMPLES):
        run_folder.path(folder, name).write_bytes(name.encode() * 3)
    run_folder.write_status(folder, "done", iterations=20)
    metrics = {"run": str(folder), "status": "done", "metrics": {"fd_domain": {"value": 2.5}}}
    run_folder.path(folder, run_folder.METRICS).write_text(json.dumps(metrics))
    return folder


def test_sharing_copies_the_results_and_names_their_source(tmp_path):
    source = finished_run(tmp_path / "digits/dcgan-0/nfull/s0/i20")
    dest = tmp_path / "digits-place/dcgan-0/nfull/s0/i20"
    written = run_folder.share(source, dest)
    assert sorted(p.name for p in written) == sorted(run_folder.SHARED)
    for name in (run_folder.CHECKPOINT, run_folder.LOG, run_folder.SAMPLES):
        copied, original = run_folder.path(dest, name), run_folder.path(source, name)
        assert copied.read_bytes() == original.read_bytes()
    metrics = json.loads(run_folder.path(dest, run_folder.METRICS).read_text())
    assert metrics["run"] == str(dest) and metrics["shared_from"] == str(source)
    assert metrics["metrics"] == {"fd_domain": {"value": 2.5}}
    status = run_folder.read_status(dest)
    assert status["state"] == "done" and status["shared_from"] == str(source)
    assert not list(dest.glob(".*.tmp"))  # written atomically, nothing left behind


def test_sharing_an_unfinished_run_writes_nothing_and_says_what_is_missing(tmp_path):
    source = finished_run(tmp_path / "a")
    run_folder.path(source, run_folder.METRICS).unlink()
    with pytest.raises(DataError, match=r"a has no metrics.json: finish that run first"):
        run_folder.share(source, tmp_path / "b")
    assert not (tmp_path / "b").exists()
