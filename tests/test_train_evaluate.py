import csv
import json
from dataclasses import replace

import pytest
import torch

from sagan.cli import main
from sagan.config import DataConfig, EvalConfig, ModelConfig, RunConfig, TrainConfig
from sagan.data import load_prepared
from sagan.errors import ConfigError
from sagan.metrics.domain import train_domain_classifier
from sagan.metrics.evaluate import evaluate
from sagan.metrics.reference import compute_reference
from sagan.report.aggregate import metric_protocol, run_row
from sagan.train.trainer import train


@pytest.fixture(scope="module")
def scored_setup(digits16, tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = load_prepared(digits16)
    extractor = root / "domain.pt"
    info = train_domain_classifier(data, extractor, epochs=2)
    reference, train_reference = root / "heldout.pt", root / "train.pt"
    compute_reference(data, "heldout", "domain", extractor, reference)
    compute_reference(data, "train", "domain", extractor, train_reference)
    return {
        "extractor": extractor,
        "reference": reference,
        "train_reference": train_reference,
        "accuracy": info["heldout_accuracy"],
    }


def tiny_config(digits16, setup, variant="sagan"):
    return RunConfig(
        variant=variant,
        variant_options={"g_resolutions": [8], "d_resolutions": [8]} if variant == "sagan" else {},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=8, z_dim=16),
        train=TrainConfig(iterations=6, batch_size=16, log_every=2, sample_every=3),
        eval=EvalConfig(
            extractor_path=str(setup["extractor"]),
            reference_path=str(setup["reference"]),
            train_reference_path=str(setup["train_reference"]),
            num_samples=100,
        ),
    )


def test_domain_classifier_learns_digits(scored_setup):
    assert scored_setup["accuracy"] > 0.5  # chance is 0.1


def test_train_writes_checkpoint_log_samples_and_status(digits16, scored_setup, tmp_path):
    status = train(tiny_config(digits16, scored_setup), tmp_path, progress=False)
    assert status["state"] == "done" and status["iterations"] == 6
    assert status["train_images"] == 64 and status["params_g"] > 0
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [r["iteration"] for r in rows] == ["2", "4", "6"]
    assert any(k.startswith("gamma:G.") for k in rows[0]) and "loss_d" in rows[0]
    assert all(-1 <= float(r["r_t"]) <= 1 for r in rows) and "d_gap" in rows[0]
    assert -1 <= status["r_t"] <= 1
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "iter_000003.png",
        "iter_000006.png",
    ]
    assert (tmp_path / "checkpoint.pt").is_file() and (tmp_path / "config.yaml").is_file()


def test_two_evaluations_of_one_checkpoint_agree_exactly(digits16, scored_setup, tmp_path):
    train(tiny_config(digits16, scored_setup, "dcgan"), tmp_path, progress=False)
    first = evaluate(tmp_path)["metrics"]
    second = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert evaluate(tmp_path)["metrics"] == first == second
    fd = first["fd_domain"]
    assert fd["value"] > 0 and fd["num_samples"] == 100 and fd["reference_split"] == "heldout"
    assert fd["extractor"] == "domain" and "fid" not in first
    vs_train = first["fd_domain_train"]
    assert vs_train["reference_split"] == "train" and vs_train["reference_count"] == 64  # subset
    gap = first["fd_domain_gap"]["value"]
    assert gap == pytest.approx(fd["value"] - vs_train["value"])
    for name in ("kid_domain_std", "precision_domain", "recall_domain", "coverage_domain"):
        assert name in first and first[name]["value"] >= 0, name
    memo = sorted(name for name in first if name.startswith("memo_"))
    assert memo == [
        "memo_domain_mann_whitney_z",
        "memo_domain_median_ratio",
        "memo_domain_near_copy_fraction",
    ]
    detail = ["spectrum_hf_l1", "spectrum_l1", "swd_16px", "swd_mean"]  # 16 px: one level
    assert sorted(n for n in first if n.startswith(("swd_", "spectrum_"))) == detail
    for name in detail:  # pixels against the 200 held-out reals, no extractor
        m = first[name]
        assert m["value"] > 0 and m["extractor"] is None and m["better"] == "lower"
        assert m["num_samples"] == 100 and m["reference_count"] == 200, name
    assert fd["family"] == "fd" and fd["samples"] == "generated images" and fd["unit"]
    row = run_row(tmp_path)  # into the summary; each metric's protocol beside it
    assert row["swd_16px"] == first["swd_16px"]["value"] and "num_samples" not in row
    protocol = metric_protocol([tmp_path]).set_index("metric")
    counts = protocol.loc[["swd_16px", "fd_domain"], "num_samples"]
    assert counts.tolist() == [100, 100]


def test_a_failed_run_records_why(digits16, scored_setup, tmp_path):
    cfg = tiny_config(digits16, scored_setup)
    bad = RunConfig(**{**cfg.__dict__, "data": DataConfig(path=str(digits16), size=10**6)})
    with pytest.raises(Exception, match="exceeds"):
        train(bad, tmp_path, progress=False)
    status = json.loads((tmp_path / "status.json").read_text())
    assert status["state"] == "failed" and "exceeds" in status["reason"]


def test_cli_lists_variants_and_reports_bad_input(capsys, tmp_path):
    assert main(["variants"]) == 0
    out = capsys.readouterr().out
    assert "dcgan" in out and "sagan" in out
    assert main(["train", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)]) == 2
    assert "missing.yaml does not exist" in capsys.readouterr().err


def test_class_conditional_resnet_trains_and_evaluates(digits16, scored_setup, tmp_path):
    base = tiny_config(digits16, scored_setup, "dcgan")
    cfg = RunConfig(
        **{
            **base.__dict__,
            "model": ModelConfig(backbone="resnet", width=4, z_dim=16, conditional=True),
            "train": TrainConfig(iterations=2, batch_size=8, log_every=1, sample_every=2),
        }
    )
    assert train(cfg, tmp_path, progress=False)["state"] == "done"
    first = evaluate(tmp_path)["metrics"]["fd_domain"]["value"]
    assert evaluate(tmp_path)["metrics"]["fd_domain"]["value"] == first


def test_conditional_dcgan_is_a_config_error(digits16, scored_setup, tmp_path):
    base = tiny_config(digits16, scored_setup, "dcgan")
    cfg = RunConfig(**{**base.__dict__, "model": ModelConfig(width=4, conditional=True)})
    with pytest.raises(ConfigError, match="dcgan backbone is unconditional"):
        train(cfg, tmp_path, progress=False)


def test_domain_features_have_unit_scale_on_the_training_pool(digits16, scored_setup):
    from sagan.metrics.extractors import extract, load_extractor

    data = load_prepared(digits16)
    net = load_extractor("domain", scored_setup["extractor"])
    feats = extract(net, data.images[data.train_order].float())
    rms = feats.square().mean(0).sqrt()
    live = rms > 0
    assert live.sum() > 0
    torch.testing.assert_close(rms[live], torch.ones_like(rms[live]), rtol=1e-4, atol=1e-4)


def test_class_statistics_see_collapse_and_spread():
    import numpy as np

    from sagan.metrics.domain import class_statistics

    collapsed = np.tile([[0.9, 0.05, 0.05]], (30, 1))
    assert class_statistics(collapsed) == pytest.approx(
        {"class_coverage": 1 / 3, "class_confidence": 0.9}
    )
    spread = np.eye(3)[np.arange(30) % 3]
    assert class_statistics(spread) == {"class_coverage": 1.0, "class_confidence": 1.0}


def test_optional_fd_infinity_and_class_statistics(digits16, scored_setup, tmp_path):
    base = tiny_config(digits16, scored_setup, "dcgan")
    cfg = RunConfig(**{**base.__dict__, "eval": replace(base.eval, fid_infinity=True)})
    train(cfg, tmp_path, progress=False)
    metrics = evaluate(tmp_path)["metrics"]
    fit = metrics["fd_domain_infinity"]
    assert len(fit["points"]) == 8 and fit["points"][-1][0] == 100
    assert 0 < metrics["class_coverage_domain"]["value"] <= 1
    assert 0.1 <= metrics["class_confidence_domain"]["value"] <= 1
