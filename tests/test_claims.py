"""Claim verdicts on hand-made summaries whose answer is known."""

import numpy as np
import pandas as pd
import pytest

from sagan.report.claims import claims_table, evaluate_claim, verdict
from sagan.report.tables import to_markdown
from tests.design_claims import (
    design_claims,
    fd_gain_verdict,
    overfitting_gap_verdict,
    spec,
    video_consistency_verdicts,
)


def runs(effect_pct: np.ndarray, *, seeds: int = 4, spread: float = 0.0) -> pd.DataFrame:
    """dcgan at FD 100 (+ noise) and sagan at effect_pct % better, for 2 datasets x seeds."""
    rng = np.random.default_rng(0)
    rows = []
    for dataset in ("a", "b"):
        for seed in range(seeds):
            base = 100 + spread * rng.normal()
            gain = effect_pct + spread * rng.normal()
            for variant, fd in (("dcgan", base), ("sagan", base * (1 - gain / 100))):
                rows.append(
                    {
                        "study": "s",
                        "dataset": dataset,
                        "variant": variant,
                        "size": "100",
                        "train_images": 100,
                        "resolution": 32,
                        "iterations": 500,
                        "seed": seed,
                        "status": "done",
                        "fd_domain": fd,
                        "fd_domain_gap": 1.0 + (0.5 if variant == "sagan" else 0.0),
                    }
                )
    return pd.DataFrame(rows)


def test_a_constructed_15_percent_gain_supports_claim_1():
    c = fd_gain_verdict(runs(15.0, spread=0.5))
    assert c.verdict == "supported" and c.n == 8 and c.seeds == 4
    assert c.ci_lo < 15 < c.ci_hi and c.p < 0.05
    assert c.scale == "a, b; 32 px; 100 images; 500 it"


def test_noise_leaves_claim_1_inconclusive():
    assert fd_gain_verdict(runs(0.0, spread=60.0)).verdict == "inconclusive"


def test_a_reversed_effect_contradicts_claim_1():
    assert fd_gain_verdict(runs(-15.0, spread=0.5)).verdict == "contradicted"


def test_a_positive_but_much_smaller_gain_contradicts_the_claimed_size():
    c = fd_gain_verdict(runs(2.0, spread=0.2))
    assert c.verdict == "contradicted" and c.ci_hi < 12


def test_amplified_gap_supports_claim_4_and_says_what_is_not_measured():
    c = overfitting_gap_verdict(runs(0.0))
    assert c.mean == pytest.approx(0.5) and c.verdict == "supported"
    assert "100k" in c.note


def test_too_few_pairs_cannot_support():
    assert verdict(np.array([15.0, 15.1]), (12, 18))["verdict"] == "inconclusive"


def test_claims_without_data_are_not_measured_and_say_how_to_measure():
    table = design_claims(runs(15.0, spread=0.5)).set_index("claim")
    assert table.loc["2: attention works best at mid-level feature maps", "verdict"] == (
        "not measured in this study"
    )
    six = video_consistency_verdicts(runs(15.0))[0]
    assert six.verdict == "not measured in this study" and "video" in six.needs
    md = to_markdown(claims_table(design_claims(runs(15.0, spread=0.5))))
    assert "supported" in md and "not measured in this study" in md


def test_video_consistency_gain_supports_claim_6():
    rows = runs(0.0)
    rows["variant"] = rows["variant"].map({"sagan": "video3d", "dcgan": "video_baseline"})
    rows["fd_video_domain3d"] = 1.0
    rows["temporal_consistency"] = np.where(rows["variant"] == "video3d", 0.9, 0.5) + np.tile(
        np.linspace(0, 0.01, 8), 2
    )
    (c,) = video_consistency_verdicts(rows)
    assert c.comparison.startswith("video3d vs video_baseline") and c.verdict == "supported"


def test_claim_8_reads_the_256_px_swd_and_only_runs_that_have_it():
    (missing,) = evaluate_claim(runs(40.0), spec("8"))
    assert missing.verdict == "not measured in this study" and "256 px" in missing.needs
    big = runs(40.0, spread=0.5).assign(resolution=256, dataset=lambda r: r["dataset"] + "256")
    big["swd_256px"] = big.pop("fd_domain")  # sagan's SWD about 40% under dcgan's
    small = runs(-40.0, spread=0.5)  # 32 px runs, where attention does worse: no 256 px level
    (c,) = evaluate_claim(pd.concat([big, small], ignore_index=True), spec("8"))
    assert c.verdict == "supported" and c.n == 8 and c.ci_lo < 40 < c.ci_hi
    assert c.scale.startswith("a256, b256; 256 px")
    big["swd_256px"] *= np.where(big["variant"] == "sagan", 1.5, 1.0)  # now ~10% under
    assert evaluate_claim(big, spec("8"))[0].verdict == "contradicted"
