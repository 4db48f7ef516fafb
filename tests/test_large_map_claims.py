"""Cost claims where N is large, without training: the scaling sweep times the claims' own
arms at a large map side by side, and each cost claim gets a time row (measured) and a MAC
row (counted, exact) at that map beside its row from the dataset's profile."""

from pathlib import Path

import pandas as pd
import pytest

from sagan.cost.plan import scaling_specs
from sagan.io import read_yaml
from sagan.report.claims import evaluate_claim, large_map_claims, load_claims
from sagan.study.model import parse_study

REPO = Path(__file__).resolve().parents[1]
CLAIMS = {c.id: c for c in load_claims(REPO / "config/claims.yaml")}


def row(variant, resolution, side, ms, macs, attention=0):
    return {
        "arm": variant,
        "resolution": resolution,
        "attention_side": side,
        "tokens": side * side,
        "batch": 8,
        "precision": "fp32",
        "device": "test CPU",
        "ms_repeats": " ".join(f"{t:.3f}" for t in ms),
        "macs_g": macs,
        "macs_d": 300,  # D's forward, the same for every arm here
        "attention_macs_g": attention,
    }


def sweep(topk_ms=(60, 61, 59, 60, 62, 60, 61, 60, 59, 60), topk_macs=900):
    """sagan and topk at two maps of 64 px, and dcgan without attention, in the same 10
    rounds (enough to decide: sagan.report.claims MIN_ROUNDS)."""
    rounds = len(topk_ms)
    return pd.DataFrame(
        [
            row("dcgan", 64, 0, [40] * rounds, 600),
            row("sagan", 64, 32, [100, 101, 99, 100, 102, 100, 101, 100, 99, 100][:rounds], 1000),
            row("sagan", 64, 16, [50] * rounds, 700),
            row("topk", 64, 32, topk_ms, topk_macs),
            row("topk", 64, 16, [55] * rounds, 700),
        ]
    )


def test_a_saving_claim_reads_time_and_macs_at_the_largest_map():
    timed, counted = large_map_claims(sweep(), CLAIMS["5a-cost"])
    assert timed.dataset == counted.dataset == "64 px, 32x32 map (N = 1,024)"
    assert timed.mean == pytest.approx(40.0)  # 60 / 100 each round: 40 % saved
    assert timed.verdict == "inside the claimed range" and "scaling sweep" in timed.scale
    # G + D: 900 + 300 of 1000 + 300
    assert counted.mean == counted.ci_lo == counted.ci_hi == pytest.approx(100 * (1 - 1200 / 1300))
    assert counted.verdict == "inside the claimed range" and "exact count" in counted.test
    assert "MACs" in counted.effect and "saved vs sagan" in counted.effect


def test_a_kernel_that_cannot_save_reads_no_effect_on_its_macs_row():
    """The old top-k did all of dense attention's work: its counted MACs equal sagan's."""
    _, counted = large_map_claims(sweep(topk_macs=1000), CLAIMS["5a-cost"])
    assert counted.mean == 0.0 and str(counted.mean) == "0.0"  # not "-0.0"
    assert counted.verdict == "equivalent to no effect"


def test_an_overhead_claim_pairs_its_arm_with_a_baseline_without_attention():
    timed, counted = large_map_claims(sweep(), CLAIMS["3"])
    assert timed.dataset == "64 px, 32x32 map (N = 1,024)"
    assert timed.mean == pytest.approx(150.0)  # sagan 100 vs dcgan 40 ms
    assert counted.mean == pytest.approx(100 * (1300 / 900 - 1))


def test_a_sweep_of_too_few_rounds_decides_nothing_but_its_exact_macs_row():
    timed, counted = large_map_claims(sweep(topk_ms=(60,) * 5), CLAIMS["5a-cost"])
    assert timed.verdict.startswith("not decided")
    assert counted.verdict == "inside the claimed range"  # a count needs no rounds


def test_no_rows_without_both_arms_in_the_sweep():
    only_sagan = sweep()[lambda d: d["arm"] != "topk"]
    assert large_map_claims(only_sagan, CLAIMS["5a-cost"]) == []
    assert large_map_claims(None, CLAIMS["5a-cost"]) == []


def test_the_claim_has_its_profile_row_and_both_large_map_rows():
    summary = pd.DataFrame({"status": [], "dataset": [], "arm": []})
    rows = evaluate_claim(summary, CLAIMS["5a-cost"], profile_rows(), scaling=sweep())
    large = "64 px, 32x32 map (N = 1,024)"
    assert [r.dataset for r in rows] == ["digits", "digits", large, large]


def test_the_default_study_sweeps_the_claims_arms_with_their_own_options():
    study = read_yaml(REPO / "config/default.yaml")
    specs = {s.label: s for s in scaling_specs(parse_study(study), 64)}
    topk = specs["topk@64:32x32"]
    assert topk.arm == "topk" and topk.variant_options["g_resolutions"] == [32]
    assert topk.variant_options["top_k"] == study["variants"]["topk"]["top_k"]
    assert {"sagan@64:32x32", "linear@64:32x32", "dcgan@64"} <= set(specs)


def profile_rows(topk_macs=900):
    """A dataset's profile: dcgan, sagan and topk in fp32, and again in bf16 (other numbers:
    the fp32 rows must be the ones read)."""
    rounds = " ".join(["10.0"] * 10)
    base = {"dataset": "digits", "resolution": 32, "device": "cpu", "ms_repeats": rounds}
    return pd.DataFrame(
        [
            {**base, "arm": "dcgan", "precision": "fp32", "macs_g": 600, "macs_d": 300},
            {**base, "arm": "sagan", "precision": "fp32", "macs_g": 1000, "macs_d": 300},
            {**base, "arm": "topk", "precision": "fp32", "macs_g": topk_macs, "macs_d": 300},
            *(
                {**base, "arm": v, "precision": "bf16", "macs_g": 1, "macs_d": 1}
                for v in ("topk", "sagan", "dcgan")
            ),
        ]
    )


def test_the_profile_time_row_has_its_exact_mac_row_beside_it():
    summary = pd.DataFrame({"status": [], "dataset": [], "arm": []})
    rows = evaluate_claim(summary, CLAIMS["5a-cost"], profile_rows())
    timed, counted = rows
    assert timed.dataset == counted.dataset == "digits"
    assert "MACs" in counted.effect and "MACs" not in timed.effect
    assert counted.mean == pytest.approx(100 * (1 - 1200 / 1300))  # fp32 rows, not bf16's
    overhead = evaluate_claim(summary, CLAIMS["3"], profile_rows())[1]
    assert overhead.mean == pytest.approx(100 * (1300 / 900 - 1))
