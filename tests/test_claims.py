"""Claim verdicts on hand-made summaries whose answer is known."""

import math

import numpy as np
import pandas as pd
import pytest

from sagan.report.claims import claims_table, evaluate_claim
from sagan.report.tables import to_markdown
from sagan.report.verdict_rules import INCONCLUSIVE, INSIDE, NOT_MEASURED, OPPOSITE, SMALLER_SAME
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
                        "arm": variant,
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


def test_a_constructed_15_percent_gain_lies_inside_claim_1_per_dataset_and_pooled():
    a, b, pooled = evaluate_claim(runs(15.0, seeds=5, spread=0.5), spec("1"))
    assert (a.dataset, b.dataset, pooled.dataset) == ("a", "b", "a, b")
    assert a.verdict == INSIDE and a.n == 5 and a.seeds == 5 and a.pairs == 5
    assert a.ci_lo < 15 < a.ci_hi and a.p < 0.025
    assert a.scale == "a; 32 px; 100 images; 500 it"
    assert pooled.level == "pooled" and pooled.n == 10 and pooled.verdict == INSIDE
    assert "heterogeneity F-test p" in pooled.note


def test_datasets_of_opposite_sign_are_shown_apart_and_not_pooled():
    rows = runs(15.0, seeds=5, spread=0.5)
    b = rows["dataset"] == "b"
    rows.loc[b & (rows["arm"] == "sagan"), "fd_domain"] *= 1.3 / 0.85  # b: 15 % worse
    a, b_row, pooled = evaluate_claim(rows, spec("1"))
    assert (a.verdict, b_row.verdict) == (INSIDE, OPPOSITE)
    assert pooled.verdict == "not pooled" and "opposite sign" in pooled.note
    assert math.isnan(pooled.mean)  # no number that averages the two away


def test_noise_leaves_claim_1_inconclusive():
    assert fd_gain_verdict(runs(0.0, spread=60.0)).verdict == INCONCLUSIVE


def test_a_reversed_effect_is_opposite_to_claim_1():
    assert fd_gain_verdict(runs(-15.0, spread=0.5)).verdict == OPPOSITE


def test_a_positive_but_smaller_gain_is_smaller_than_claimed_in_the_same_direction():
    c = fd_gain_verdict(runs(8.0, spread=0.2))
    assert c.verdict == SMALLER_SAME and c.ci_hi < 12 and c.test == "mean < 12 and mean > 0"


def test_amplified_gap_lies_inside_claim_4_and_says_what_is_not_measured():
    c = overfitting_gap_verdict(runs(0.0))
    assert c.mean == pytest.approx(0.5) and c.verdict == INSIDE
    assert "100k" in c.note
    assert math.isnan(c.margin) and "no noise floor" in c.margin_rule  # no floor file given


def test_claims_without_data_are_not_measured_and_say_how_to_measure():
    table = design_claims(runs(15.0, spread=0.5)).set_index("claim")
    assert table.loc["2: attention works best at mid-level feature maps", "verdict"] == (
        "not measured in this study"
    )
    six = video_consistency_verdicts(runs(15.0))[0]
    assert six.verdict == "not measured in this study" and "video" in six.needs
    md = to_markdown(claims_table(design_claims(runs(15.0, spread=0.5))))
    assert INSIDE in md and NOT_MEASURED in md


def test_video_consistency_gain_supports_claim_6():
    rows = runs(0.0)
    rows["arm"] = rows["arm"].map({"sagan": "video3d", "dcgan": "video_baseline"})
    rows["fd_video_domain3d"] = 1.0
    rows["temporal_consistency"] = np.where(rows["arm"] == "video3d", 0.9, 0.5) + np.tile(
        np.linspace(0, 0.01, 8), 2
    )
    c = video_consistency_verdicts(rows)[0]
    assert c.comparison.startswith("video3d vs video_baseline") and c.verdict == INSIDE


def test_claim_8_reads_the_256_px_swd_and_only_runs_that_have_it():
    (missing,) = evaluate_claim(runs(40.0), spec("8"))
    assert missing.verdict == "not measured in this study" and "256 px" in missing.needs
    big = runs(40.0, seeds=5, spread=0.5).assign(
        resolution=256, dataset=lambda r: r["dataset"] + "256"
    )
    big["swd_256px"] = big.pop("fd_domain")  # sagan's SWD about 40% under dcgan's
    small = runs(-40.0, spread=0.5)  # 32 px runs, where attention does worse: no 256 px level
    *datasets, c = evaluate_claim(pd.concat([big, small], ignore_index=True), spec("8"))
    assert [d.dataset for d in datasets] == ["a256", "b256"]  # no 32 px row
    assert c.verdict == INSIDE and c.n == 10 and c.ci_lo < 40 < c.ci_hi
    assert c.scale.startswith("a256, b256; 256 px")
    big["swd_256px"] *= np.where(big["arm"] == "sagan", 1.5, 1.0)  # now ~10% under
    assert evaluate_claim(big, spec("8"))[0].verdict == SMALLER_SAME
