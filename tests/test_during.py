"""FD during training (evaluation.during): scored at the asked iterations from the sampled G
at its growth state, logged, and without changing what is trained."""

from __future__ import annotations

import csv
from dataclasses import replace

import pandas as pd
import pytest
import torch

from sagan.config import (
    DataConfig,
    EvalConfig,
    ModelConfig,
    ProgressiveConfig,
    RunConfig,
    TrainConfig,
)
from sagan.data import load_prepared
from sagan.errors import ConfigError
from sagan.metrics.domain import train_domain_classifier
from sagan.metrics.during import DuringScorer, check_during
from sagan.metrics.reference import compute_reference
from sagan.models.backbone import models_for_run
from sagan.report.claims import evaluate_claim
from sagan.report.during_figure import fd_during
from sagan.report.equal_time import equal_time_rows
from sagan.train.progressive import growth
from sagan.train.trainer import train
from tests.design_claims import spec


@pytest.fixture(scope="module")
def scoring(digits16, tmp_path_factory):
    root = tmp_path_factory.mktemp("during")
    data = load_prepared(digits16)
    train_domain_classifier(data, root / "domain.pt", epochs=1)
    compute_reference(data, "heldout", "domain", root / "domain.pt", root / "heldout.pt")
    return EvalConfig(
        extractor_path=str(root / "domain.pt"),
        reference_path=str(root / "heldout.pt"),
        during=[2, 5],
        during_samples=32,
    )


def config(digits16, e: EvalConfig) -> RunConfig:
    return RunConfig(
        variant="sagan",
        variant_options={"g_resolutions": [8], "d_resolutions": [8]},
        data=DataConfig(path=str(digits16), size=64, resolution=16),
        model=ModelConfig(width=4, z_dim=8),
        train=TrainConfig(
            iterations=6,
            batch_size=8,
            log_every=2,
            sample_every=6,
            checkpoint_every=1,
            keep_checkpoints=10,
            ema_decay=0.9,
            progressive=ProgressiveConfig(
                start_resolution=4, phase_iterations=1, fade_iterations=2
            ),
        ),
        eval=e,
    )


def read(path):
    return list(csv.DictReader(path.open()))


def test_fd_is_scored_at_the_asked_iterations_from_the_ema_at_its_growth(
    digits16, scoring, tmp_path
):
    cfg = config(digits16, scoring)
    train(cfg, tmp_path / "scored", progress=False)
    rows = read(tmp_path / "scored" / "during.csv")
    assert [int(r["iteration"]) for r in rows] == [2, 5]
    assert all(r["metric"] == "fd_domain" and r["num_samples"] == "32" for r in rows)
    assert 0 < float(rows[0]["seconds"]) < float(rows[1]["seconds"])
    log = read(tmp_path / "scored" / "log.csv")
    logged = {r["iteration"]: r["during_fd_domain"] for r in log if r["during_fd_domain"]}
    assert logged == {"2": rows[0]["fd"], "5": rows[1]["fd"]}
    # at iteration 5 the 16 px stage is fading in: its checkpoint's EMA, grown so, rescores
    assert growth(cfg.train.progressive, 5, 16) == (16, 0.5)
    state = torch.load(tmp_path / "scored" / "checkpoints" / "iter_0000005.pt", weights_only=True)
    G, _ = models_for_run(cfg, load_prepared(digits16).meta)
    G.load_state_dict(state["G_ema"])
    G.set_growth(16, 0.5)
    rescored = DuringScorer(scoring, 0, torch.device("cpu")).score(G)
    assert float(rows[1]["fd"]) == pytest.approx(rescored, rel=1e-9)


def test_scoring_changes_nothing_that_is_trained(digits16, scoring, tmp_path):
    cfg = config(digits16, scoring)
    train(cfg, tmp_path / "scored", progress=False)
    train(replace(cfg, eval=replace(scoring, during=[])), tmp_path / "plain", progress=False)
    a, b = (
        torch.load(tmp_path / r / "checkpoint.pt", weights_only=True) for r in ("scored", "plain")
    )
    for net in ("G", "D", "G_ema"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net]), net
    assert not (tmp_path / "plain" / "during.csv").exists()


def test_during_iterations_are_checked():
    check_during(EvalConfig(during=[1, 10]), 10)
    with pytest.raises(ConfigError, match=r"evaluation.during has iteration\(s\) \[11\] after"):
        check_during(EvalConfig(during=[5, 11]), 10)
    with pytest.raises(ConfigError, match="evaluation.during must list positive iterations"):
        check_during(EvalConfig(during=[0]), 10)


def synthetic_logs(seeds: int = 2) -> pd.DataFrame:
    """Two arms, FD scored at 100, 200, 300 (rows between them carry none); sagan-prog runs
    faster (0.8 s per sagan second) and is 20 % better at equal iterations."""
    rows = []
    for variant, speed in (("sagan", 1.0), ("sagan-prog", 0.8)):
        for seed in range(seeds):
            for it in range(50, 301, 50):
                scored = it % 100 == 0
                fd = 100 * speed / (it / 100) + 5 * seed if scored else None
                rows.append(
                    {"study": "s", "dataset": "digits", "arm": variant, "size": "full",
                     "seed": seed, "iteration": it, "seconds": it * speed / 10 + seed,
                     "loss_d": 1.0, "during_fd_domain": fd}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_the_figure_draws_fd_against_iterations_and_seconds(tmp_path):
    logs = synthetic_logs()
    fig = fd_during(logs)
    by_it, by_s = fig.axes
    assert by_it.get_xlabel() == "iteration" and by_s.get_xlabel() == "training seconds"
    assert "FD (domain)" in by_it.get_ylabel()
    # seconds: a line per arm and seed, through the scored rows only
    assert sorted(len(line.get_xdata()) for line in by_s.get_lines()) == [3] * 4
    fig.savefig(tmp_path / "fd_during.png")
    assert fd_during(logs.drop(columns="during_fd_domain")) is None  # no data: no figure
    assert fd_during(logs.assign(during_fd_domain=None)) is None


def runs_of(logs: pd.DataFrame) -> pd.DataFrame:
    """The summary of the runs the logs come from (all done)."""
    keys = ["study", "dataset", "arm", "size", "seed"]
    return logs[keys].drop_duplicates().assign(status="done", train_images=1397, iterations=300)


def test_fd_at_equal_time_reads_both_curves_where_both_reached():
    logs = synthetic_logs(seeds=1)
    rows = equal_time_rows(runs_of(logs), logs, "sagan-prog", "sagan").set_index("arm")
    # prog's last score is at 24 s (FD 80/3); sagan's curve there: between (20 s, 50) and
    # (30 s, 100/3), 2/5 of the way
    assert rows["equal_seconds"].tolist() == [24.0, 24.0]
    assert rows.loc["sagan-prog", "fd_at_equal_time"] == pytest.approx(80 / 3)
    assert rows.loc["sagan", "fd_at_equal_time"] == pytest.approx(50 + 0.4 * (100 / 3 - 50))
    late = logs.assign(seconds=logs["seconds"] + 100 * (logs["arm"] == "sagan"))
    assert equal_time_rows(runs_of(late), late, "sagan-prog", "sagan").empty  # no shared span


def test_claim_7_time_compares_the_arms_at_equal_training_seconds():
    seven = spec("7-time")
    logs = synthetic_logs(seeds=8)
    measured = evaluate_claim(runs_of(logs), seven, logs=logs)[0]
    assert measured.verdict == "inside the claimed range" and "equal training time" in measured.note
    flipped = replace(seven, arm="sagan", baseline="sagan-prog")
    assert (
        evaluate_claim(runs_of(logs), flipped, logs=logs)[0].verdict != "inside the claimed range"
    )
    unmeasured = evaluate_claim(runs_of(logs), seven)[0]  # no logs: not measured, and says how
    assert (
        unmeasured.verdict == "not measured in this study"
        and "evaluation.during" in unmeasured.needs
    )
