"""Training that survives: kill and resume, corrupt checkpoints, divergence, bad resumes."""

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from sagan.config import (
    DataConfig,
    ModelConfig,
    ProgressiveConfig,
    RunConfig,
    TrainConfig,
    save_run_config,
)
from sagan.errors import ConfigError
from sagan.metrics.evaluate import evaluate
from sagan.report.aggregate import aggregate
from sagan.run_folder import read_status
from sagan.study.model import parse_study
from sagan.train.checkpoint import checkpoint_paths, load_latest
from sagan.train.trainer import train

ITERATIONS = 24


def config(digits16, **train):
    t = {
        "iterations": ITERATIONS,
        "batch_size": 8,
        "log_every": 2,
        "sample_every": 12,
        "checkpoint_every": 2,
    } | train
    return RunConfig(
        variant="sagan",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(**t),
    )


def final_weights(run_dir: Path) -> dict:
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    return {f"{net}.{k}": v for net in ("G", "D") for k, v in state[net].items()}


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = final_weights(a), final_weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_a_run_killed_at_a_random_iteration_resumes_to_identical_weights(digits16, tmp_path):
    cfg = config(digits16)
    train(cfg, tmp_path / "whole", progress=False)
    run = tmp_path / "killed"
    run.mkdir()
    save_run_config(cfg, run / "config.yaml")
    cmd = [
        sys.executable,
        "-m",
        "sagan.cli",
        "--threads",
        "1",
        "train",
        str(run / "config.yaml"),
        "--out",
        str(run),
    ]
    kill_after = random.Random().randrange(2, ITERATIONS - 2, 2)  # a checkpointed iteration
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(int(p.stem[5:]) >= kill_after for p in checkpoint_paths(run)):
        assert proc.poll() is None and time.monotonic() < deadline, "finished before the kill"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = checkpoint_paths(run)[-1]
    assert read_status(run)["state"] == "running" and not (run / "checkpoint.pt").exists()
    status = train(cfg, run, progress=False)  # the re-launch
    assert status["state"] == "done" and status["resumed_from"] == int(killed_at.stem[5:])
    assert_same_weights(tmp_path / "whole", run)
    assert int(killed_at.stem[5:]) < ITERATIONS  # it really was interrupted
    whole_log = (tmp_path / "whole" / "log.csv").read_text().splitlines()
    resumed_log = (run / "log.csv").read_text().splitlines()
    assert [r.split(",")[:1] for r in resumed_log] == [r.split(",")[:1] for r in whole_log]


def test_a_run_resumed_mid_fade_is_bit_identical_to_one_trained_in_one_go(digits16, tmp_path):
    """Progressive growing from 4 px: 8 px fades in over iterations 2-5, 16 px over 7-10.
    A run whose checkpoints stop at 8 (alpha 2/4) goes on to the uninterrupted run's
    weights, G's EMA included. G's slot at 16 px is off the path until its fade."""
    grow = ProgressiveConfig(start_resolution=4, phase_iterations=1, fade_iterations=4)
    cfg = config(digits16, iterations=12, keep_checkpoints=20, ema_decay=0.9)
    cfg = replace(cfg, variant_options={"g_resolutions": [16], "d_resolutions": [8]})
    cfg = replace(cfg, train=replace(cfg.train, progressive=grow))
    train(cfg, tmp_path / "whole", progress=False)
    (tmp_path / "cut" / "checkpoints").mkdir(parents=True)
    for path in checkpoint_paths(tmp_path / "whole"):
        if int(path.stem[5:]) <= 8:  # as if killed after the checkpoint at 8
            shutil.copy(path, tmp_path / "cut" / "checkpoints" / path.name)
    status = train(cfg, tmp_path / "cut", progress=False)
    assert status["resumed_from"] == 8
    assert_same_weights(tmp_path / "whole", tmp_path / "cut")
    ema = [
        torch.load(tmp_path / r / "checkpoint.pt", weights_only=True)["G_ema"]
        for r in ("whole", "cut")
    ]
    assert all(torch.equal(ema[0][k], ema[1][k]) for k in ema[0])
    header = (tmp_path / "whole" / "log.csv").read_text().splitlines()[0]
    assert "grow_side" in header and "grow_alpha" in header


def test_the_log_carries_losses_d_outputs_r_t_gammas_learning_rates_and_time(digits16, tmp_path):
    import csv

    train(config(digits16, iterations=4), tmp_path, progress=False)
    row = next(csv.DictReader((tmp_path / "log.csv").open()))
    for column in (
        "loss_d",
        "loss_g",
        "d_real",
        "d_fake",
        "r_t",
        "lr_g",
        "lr_d",
        "seconds",
        "it_per_s",
    ):
        assert column in row, column
    assert float(row["lr_g"]) == 1e-4 and float(row["lr_d"]) == 4e-4
    assert any(k.startswith("gamma:G.") for k in row) and any(k.startswith("gamma:D.") for k in row)


def test_two_runs_with_one_seed_are_identical(digits16, tmp_path):
    cfg = config(digits16, iterations=4, checkpoint_every=100)
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False)
    assert_same_weights(tmp_path / "a", tmp_path / "b")


def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous(digits16, tmp_path):
    cfg = config(digits16, iterations=8)
    train(replace(cfg, train=replace(cfg.train, iterations=6)), tmp_path / "run", progress=False)
    paths = checkpoint_paths(tmp_path / "run")
    assert [p.name for p in paths] == ["iter_0000004.pt", "iter_0000006.pt"]  # the last 2 kept
    paths[-1].write_bytes(paths[-1].read_bytes()[:1000])  # truncated, as by a crash mid-copy
    with pytest.warns(UserWarning, match="iter_0000006.pt cannot be loaded"):
        status = train(cfg, tmp_path / "run", progress=False)
    assert status["state"] == "done"
    train(cfg, tmp_path / "whole", progress=False)
    assert_same_weights(tmp_path / "whole", tmp_path / "run")


class Payload:
    def __reduce__(self):
        return (Path.touch, (Path(__file__).parent / "PWNED",))


def test_a_checkpoint_holding_a_pickled_object_is_refused(tmp_path):
    marker = Path(__file__).parent / "PWNED"
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    torch.save({"G": Payload()}, folder / "iter_0000002.pt")
    with pytest.warns(UserWarning, match="cannot be loaded"):
        assert load_latest(tmp_path) is None
    assert not marker.exists()


def test_a_checkpoint_of_another_config_is_refused_untouched(digits16, tmp_path):
    cfg = config(digits16, iterations=4)
    train(cfg, tmp_path / "run", progress=False)

    def files():  # the lock file names its holder: taken before anything is read
        return {
            p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*") if p.name != "train.lock"
        }

    before = files()
    other = replace(cfg, train=replace(cfg.train, lr_g=0.5, iterations=8))
    with pytest.raises(ConfigError, match=r"train\.lr_g: checkpoint has 0\.0001, config has 0\.5"):
        train(other, tmp_path / "run", progress=False)
    assert files() == before


NAN_PLUGIN = textwrap.dedent('''
    import torch
    from torch import nn
    from sagan.models import VariantSpec
    from sagan.registry import register_variant


    class NanAfter(nn.Module):
        """Identity until its n-th training forward, then NaN: a divergence on demand."""

        def __init__(self, channels, after):
            super().__init__()
            self.after, self.calls = after, 0
            self.scale = nn.Parameter(torch.ones(()))

        def forward(self, x):
            self.calls += self.training
            return x * (self.scale if self.calls < self.after else float("nan"))


    @register_variant("nan_bomb")
    def nan_bomb(after: int = 10) -> VariantSpec:
        """Test-only: G's output turns NaN after ``after`` training forwards."""
        return VariantSpec(g_slots={8: lambda c: NanAfter(c, after)})
''')


@pytest.fixture
def nan_plugin(install_plugin):
    return install_plugin("nan_bomb_plugin", NAN_PLUGIN, "nan_bomb")


def test_nan_ends_the_run_as_diverged_and_scores_as_a_result(nan_plugin, digits16, tmp_path):
    cfg = replace(
        config(digits16), variant="nan_bomb", variant_options={"after": 15}, plugins=[nan_plugin]
    )
    run = tmp_path / "run"
    status = train(cfg, run, progress=False)
    assert status["state"] == "diverged"
    assert 6 <= status["iteration"] <= 10  # 2 G forwards per iteration; found at a log row
    good = load_latest(run)
    assert good is not None and good["iteration"] < status["iteration"]
    assert all(torch.isfinite(v).all() for v in good["G"].values() if v.is_floating_point())
    assert (run / "samples.png").is_file() and (run / "log.csv").is_file()
    assert evaluate(run)["metrics"] == {}
    row = aggregate([run]).iloc[0]
    assert row["status"] == "diverged" and row["diverged_at"] == status["iteration"]


@pytest.mark.parametrize("loss", ["ns", "wgan-gp"])
def test_other_losses_train_with_finite_values(digits16, tmp_path, loss):
    status = train(config(digits16, iterations=4, loss=loss, n_dis=2), tmp_path, progress=False)
    assert status["state"] == "done"


def test_ema_is_what_samples_and_is_evaluated(digits16, tmp_path):
    cfg = config(digits16, iterations=6, ema_decay=0.5, ema_start=2)
    train(cfg, tmp_path, progress=False)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    g, ema = state["G"], state["G_ema"]
    assert g.keys() == ema.keys()
    assert any(not torch.equal(g[k], ema[k]) for k in g if g[k].is_floating_point())


def test_n_dis_draws_that_many_real_batches_per_g_step(digits16, tmp_path):
    train(config(digits16, iterations=3, n_dis=2, checkpoint_every=3), tmp_path, progress=False)
    state = load_latest(tmp_path)
    # 64 images, batch 8: 8 batches per epoch; 3 x 2 = 6 drawn
    assert state["data"]["position"] == 6 * 8


def count_spectral_norm(model) -> int:
    from torch.nn.utils import parametrize

    return sum(parametrize.is_parametrized(m, "weight") for m in model.modules())


@pytest.mark.parametrize(
    ("backbone", "switch", "expect_on"),
    [
        ("dcgan", "backbone", False),
        ("dcgan", "on", True),
        ("resnet", "backbone", True),
        ("resnet", "off", False),
    ],
)
def test_spectral_norm_in_g_can_be_switched(backbone, switch, expect_on):
    from sagan.models.backbone import build_models

    model = ModelConfig(backbone=backbone, width=4, z_dim=8, g_spectral_norm=switch)
    G, D = build_models(
        model, "sagan", {"g_resolutions": [8], "d_resolutions": [8]}, image_size=16, channels=3
    )
    assert (count_spectral_norm(G) > 0) == expect_on
    assert count_spectral_norm(D) > 0  # D keeps it either way
    assert G(torch.randn(2, 8)).shape == (2, 3, 16, 16)


def test_unknown_spectral_norm_switch_is_a_config_error():
    from sagan.models.backbone import build_models

    with pytest.raises(ConfigError, match="g_spectral_norm 'maybe'.*backbone"):
        build_models(ModelConfig(g_spectral_norm="maybe"), "dcgan", {}, image_size=16, channels=3)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="torch.compile on CPU needs a C++ compiler")
def test_compiled_training_checkpoints_plain_state_dicts(digits16, tmp_path):
    cfg = config(digits16, iterations=3, compile=True, checkpoint_every=3, ema_decay=0.5)
    assert train(cfg, tmp_path / "run", progress=False)["state"] == "done"
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert not any("_orig_mod" in k for k in state["G"])  # loadable by an uncompiled G
    assert state["G"].keys() == state["G_ema"].keys()


def test_compile_with_wgan_gp_is_refused(digits16, tmp_path):
    with pytest.raises(ConfigError, match="compile does not support loss wgan-gp"):
        train(config(digits16, compile=True, loss="wgan-gp"), tmp_path, progress=False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"loss": "lsgan"},
            r"train.loss 'lsgan' is unknown; allowed: \['hinge', 'ns', 'wgan-gp'\]",
        ),
        ({"n_dis": 0}, "train.n_dis must be at least 1"),
        ({"ema_decay": 1.0}, r"train.ema_decay must be in \[0, 1\)"),
        ({"checkpoint_every": 0}, "train.checkpoint_every must be at least 1"),
        ({"compile": True, "loss": "wgan-gp"}, "compile does not support loss wgan-gp"),
    ],
)
def test_bad_recipe_fails_study_validation(edit, message):
    import copy

    from sagan.study import validate_study
    from tests.test_workflow import TINY

    study = copy.deepcopy(TINY)
    study["train"] |= edit
    with pytest.raises(ConfigError, match=message):
        validate_study(parse_study(study))
