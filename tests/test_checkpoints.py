"""Checkpoints that do not load: moved aside, never counted, never deleted; pruning and the
fall-back go by what loads, not by the number in a file name; saves are atomic; a resume
restores every RNG."""

import random
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from sagan.train.checkpoint import (
    checkpoint_paths,
    load_latest,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from sagan.train.trainer import train
from tests.test_resume import config


def small_state(iteration: int) -> dict:
    return {"iteration": iteration, "weights": torch.arange(1000.0) + iteration}


def names(run_dir) -> list[str]:
    return sorted(p.name for p in (run_dir / "checkpoints").iterdir())


def test_a_stray_unloadable_newest_file_neither_counts_nor_costs_valid_checkpoints(
    digits16, tmp_path
):
    """The issue's case: valid iter_290 and iter_300, a stray iter_9999999.pt that does not
    load; a resume trains to 310 and keeps 300 and 310; the stray is renamed, not deleted."""
    run = tmp_path / "run"
    short = config(digits16, iterations=2, checkpoint_every=10, log_every=2)
    train(short, run, progress=False)
    state = torch.load(run / "checkpoints" / "iter_0000002.pt", weights_only=True)
    for path in run.joinpath("checkpoints").iterdir():
        path.unlink()
    for it in (290, 300):  # the same state, numbered as a run 300 iterations in
        torch.save(state | {"iteration": it}, run / "checkpoints" / f"iter_{it:07d}.pt")
    stray = run / "checkpoints" / "iter_9999999.pt"
    stray.write_bytes(b"not a checkpoint at all")

    with pytest.warns(UserWarning, match=r"iter_9999999\.pt cannot be loaded.*moved aside"):
        status = train(replace(short, train=replace(short.train, iterations=310)), run)

    assert status["state"] == "done" and status["resumed_from"] == 300
    assert names(run) == [
        "finals.txt",
        "iter_0000300.pt",
        "iter_0000310.pt",
        "iter_9999999.pt.unreadable",
    ]
    assert (run / "checkpoints" / "iter_9999999.pt.unreadable").read_bytes().startswith(b"not a")


@pytest.mark.parametrize("length", [0, 1, 10, "half"])
def test_a_cut_newest_checkpoint_falls_back_to_the_previous_and_is_moved_aside(tmp_path, length):
    for it in (2, 4):
        save_checkpoint(tmp_path, it, small_state(it))
    newest = tmp_path / "checkpoints" / "iter_0000004.pt"
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2 if length == "half" else length])

    with pytest.warns(UserWarning, match=r"iter_0000004\.pt cannot be loaded") as caught:
        state = load_latest(tmp_path)

    assert state["iteration"] == 2
    assert len(caught) == 1 and "\n" not in str(caught[0].message)  # one line
    assert names(tmp_path) == ["iter_0000002.pt", "iter_0000004.pt.unreadable"]


def test_a_second_unreadable_file_of_one_name_does_not_replace_the_first(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for content in (b"first", b"second"):
        (folder / "iter_0000002.pt").write_bytes(content)
        with pytest.warns(UserWarning, match="cannot be loaded"):
            assert load_latest(tmp_path) is None
    assert (folder / "iter_0000002.pt.unreadable").read_bytes() == b"first"
    assert (folder / "iter_0000002.pt.unreadable.1").read_bytes() == b"second"


def test_pruning_keeps_the_newest_loadable_ones_and_leaves_later_valid_ones(tmp_path):
    for it in (2, 4, 100):  # 100: a longer run of this config got there before
        save_checkpoint(tmp_path, it, small_state(it), keep=5)
    (tmp_path / "checkpoints" / "iter_0000005.pt").write_bytes(b"")  # a stray between
    with pytest.warns(UserWarning, match=r"iter_0000005\.pt cannot be loaded"):
        save_checkpoint(tmp_path, 6, small_state(6), keep=2)
    assert names(tmp_path) == [
        "iter_0000004.pt",
        "iter_0000005.pt.unreadable",
        "iter_0000006.pt",
        "iter_0000100.pt",
    ]


def test_a_save_that_fails_midway_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 2, small_state(2))
    before = (tmp_path / "checkpoints" / "iter_0000002.pt").read_bytes()
    real_save = torch.save

    def save_half_then_fail(obj, f, *args, **kwargs):
        import io

        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        data = buf.getvalue()[: len(buf.getvalue()) // 2]
        if hasattr(f, "write"):
            f.write(data)
        else:
            with open(f, "wb") as out:
                out.write(data)
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", save_half_then_fail)
    for it in (2, 4):  # over the old file, and as a new one
        with pytest.raises(OSError, match="disk full"):
            save_checkpoint(tmp_path, it, small_state(it + 1000))
    monkeypatch.undo()

    assert (tmp_path / "checkpoints" / "iter_0000002.pt").read_bytes() == before
    assert [p.name for p in checkpoint_paths(tmp_path)] == ["iter_0000002.pt"]
    assert names(tmp_path) == ["iter_0000002.pt"]  # no temp file left behind either
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to skip: no partial file is a checkpoint
        assert load_latest(tmp_path)["iteration"] == 2


def draws() -> tuple:
    numpy = [np.random.randn(), *np.random.rand(3)]  # randn first: the cached Gaussian
    return (torch.rand(4).tolist(), numpy, [random.random() for _ in "abcd"])


def test_a_resume_restores_the_torch_numpy_and_python_rngs_exactly(tmp_path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    np.random.randn()  # leave numpy with a cached Gaussian, part of its state too
    save_checkpoint(tmp_path, 2, {"rng": rng_state()})
    expected = draws()
    torch.manual_seed(9), np.random.seed(9), random.seed(9)  # what a fresh process would have

    set_rng_state(load_latest(tmp_path)["rng"])

    got = draws()
    for name, a, b in zip(("torch", "numpy", "python"), expected, got, strict=True):
        assert a == b, f"{name} RNG not restored"
