"""Live TensorBoard curves (train.tensorboard): every run's scalars, gammas, grids and FD as
event files when the extra is installed, resumable without doubled steps; without the extra,
nothing is written and training is unchanged."""

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sagan.config import EvalConfig, RunConfig, TrainConfig
from sagan.errors import ConfigError
from sagan.schema import check_schema
from sagan.train.checkpoint import checkpoint_paths
from sagan.train.checks import check_train
from sagan.train.live_log import EVENTS_DIR
from sagan.train.trainer import train
from tests.test_during import scoring  # noqa: F401 (a fixture: extractor + reference)
from tests.test_resume import assert_same_weights
from tests.test_resume import config as resume_config


def config(digits16, e: EvalConfig | None = None, **train) -> RunConfig:
    """test_resume's tiny sagan run, shorter, with a grid every 3 iterations."""
    t = {"iterations": 6, "sample_every": 3, "checkpoint_every": 1000} | train
    return replace(resume_config(digits16, **t), eval=e or EvalConfig())


@pytest.fixture
def no_tensorboard(monkeypatch):
    """As if the extra were not installed: both imports fail."""
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)


def event_files(root):
    return sorted(root.rglob("*tfevents*"))


def test_without_the_extra_a_run_trains_as_before_and_writes_no_events(
    digits16, no_tensorboard, tmp_path
):
    status = train(config(digits16), tmp_path / "auto", progress=False)
    assert status["state"] == "done"
    assert event_files(tmp_path) == [] and not (tmp_path / "auto" / EVENTS_DIR).exists()
    cfg = config(digits16, tensorboard=False)
    train(cfg, tmp_path / "off", progress=False)
    assert_same_weights(tmp_path / "auto", tmp_path / "off")


def test_true_without_the_extra_fails_before_the_run_starts(digits16, no_tensorboard, tmp_path):
    with pytest.raises(ConfigError, match=r"pip install 'sagan-bench\[tensorboard\]'"):
        train(config(digits16, tensorboard=True), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # no status, no lock: nothing was started


@pytest.mark.parametrize("mode", ["yes", 1, None])
def test_an_unknown_mode_fails_validation(mode):
    with pytest.raises(ConfigError, match="train.tensorboard must be auto, true or false"):
        check_train(TrainConfig(tensorboard=mode))
    study = yaml.safe_load(Path("config/default.yaml").read_text())
    check_schema(study | {"train": {"tensorboard": True}})  # the package's schema
    with pytest.raises(ConfigError, match="train.tensorboard"):
        check_schema(study | {"train": {"tensorboard": mode}})


def accumulate(events_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(events_dir), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def steps(acc, tag):
    return [e.step for e in acc.Scalars(tag)]


def test_with_the_extra_each_run_writes_every_curve(digits16, scoring, tmp_path):  # noqa: F811
    pytest.importorskip("tensorboard")
    cfg = config(digits16, replace(scoring, during=[2, 5]), tensorboard=True)
    train(cfg, tmp_path / "run", progress=False)
    acc = accumulate(tmp_path / "run" / EVENTS_DIR)
    scalars = acc.Tags()["scalars"]
    for tag in ("loss/loss_d", "loss/loss_g", "D/d_real", "D/d_fake", "overfit/r_t"):
        assert steps(acc, tag) == [2, 4, 5, 6], tag  # every log.csv row (5: scored)
    assert any(t.startswith("gamma/G.") for t in scalars)
    assert any(t.startswith("gamma/D.") for t in scalars)
    assert steps(acc, "fd/during_fd_domain") == [2, 5]  # where FD was scored, only
    assert [e.step for e in acc.Images("samples")] == [3, 6]
    # writing events leaves training untouched
    off = replace(cfg, train=replace(cfg.train, tensorboard=False))
    train(off, tmp_path / "off", progress=False)
    assert_same_weights(tmp_path / "run", tmp_path / "off")
    assert not (tmp_path / "off" / EVENTS_DIR).exists()


def test_a_resumed_run_continues_its_curves_without_doubled_steps(digits16, tmp_path):
    pytest.importorskip("tensorboard")
    cfg = config(digits16, iterations=8, checkpoint_every=4, keep_checkpoints=10)
    train(cfg, tmp_path / "whole", progress=False)
    cut = tmp_path / "cut"
    (cut / "checkpoints").mkdir(parents=True)
    for path in checkpoint_paths(tmp_path / "whole"):
        if int(path.stem[5:]) <= 4:  # as if killed after logging 6 and 8, checkpointed at 4
            shutil.copy(path, cut / "checkpoints" / path.name)
    shutil.copytree(tmp_path / "whole" / EVENTS_DIR, cut / EVENTS_DIR)
    time.sleep(1.1)  # event files sort by their second: the resumed one after the first
    assert train(cfg, cut, progress=False)["resumed_from"] == 4
    assert len(event_files(cut)) == 2
    acc = accumulate(cut / EVENTS_DIR)
    assert steps(acc, "loss/loss_d") == [2, 4, 6, 8]
    train(cfg, cut, progress=False)  # finished: re-emits its outputs, opens no event file
    assert len(event_files(cut)) == 2
