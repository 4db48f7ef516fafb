import copy
import csv

import pytest
import torch

from sagan.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from sagan.errors import ConfigError
from sagan.study import validate_study
from sagan.study.model import parse_study
from sagan.train.precision import Precision
from sagan.train.trainer import train
from tests.test_workflow import TINY


def run_config(digits16, precision):
    return RunConfig(
        variant="sagan",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=8, z_dim=16),
        train=TrainConfig(
            iterations=4, batch_size=16, log_every=2, sample_every=4, precision=precision
        ),
    )


def test_bf16_autocast_trains_on_cpu_and_logs_throughput(digits16, tmp_path):
    status = train(run_config(digits16, "bf16"), tmp_path, progress=False)
    assert status["state"] == "done"
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert all(float(r["it_per_s"]) > 0 for r in rows)
    assert all(torch.isfinite(torch.tensor(float(r["loss_d"]))) for r in rows)
    weights = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["G"]
    assert all(w.dtype in (torch.float32, torch.int64) for w in weights.values())  # masters fp32


def test_bf16_autocast_runs_the_forward_in_bf16():
    layer, seen = torch.nn.Linear(8, 8), []
    layer.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with Precision("bf16", "cpu").autocast():
        layer(torch.randn(2, 8))
    with Precision("fp32", "cpu").autocast():
        layer(torch.randn(2, 8))
    assert seen == [torch.bfloat16, torch.float32]


def test_fp16_on_cpu_is_refused_with_the_fix():
    with pytest.raises(ConfigError, match="bf16"):
        Precision("fp16", "cpu")


def test_unknown_precision_fails_study_validation():
    study = copy.deepcopy(TINY)
    study["train"]["precision"] = "fp8"
    with pytest.raises(ConfigError, match="train.precision 'fp8'.*fp32"):
        validate_study(parse_study(study))


def test_precision_survives_the_run_config_file(digits16, tmp_path):
    from sagan.config import load_run_config, save_run_config

    save_run_config(run_config(digits16, "bf16"), tmp_path / "config.yaml")
    assert load_run_config(tmp_path / "config.yaml").train.precision == "bf16"
