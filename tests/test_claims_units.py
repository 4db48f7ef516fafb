"""What a claim row is built from: seed clusters, failed runs set aside, margins at the study's
scale, and Holm's adjustment across the table."""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from sagan.report.claims import adjust_holm, evaluate_claim, evaluate_claims
from sagan.report.clusters import cluster_values
from sagan.report.verdict_rules import INCONCLUSIVE, INSIDE, SMALLER, UNTESTABLE
from tests.design_claims import spec


def nested(gains: dict[tuple[str, int], float], dataset: str = "d") -> pd.DataFrame:
    """dcgan at FD 100 and sagan at gains[(size, seed)] % better; one row per run."""
    rows = []
    for (size, seed), gain in gains.items():
        for variant, fd in (("dcgan", 100.0), ("sagan", 100.0 - gain)):
            rows.append(
                {"study": "s", "dataset": dataset, "size": size, "seed": seed}
                | {"arm": variant, "status": "done", "fd_domain": fd, "train_images": 100}
            )
    return pd.DataFrame(rows)


def test_nested_sizes_of_one_seed_are_one_cluster():
    gains = {("500", 0): 10.0, ("full", 0): 12.0, ("500", 1): 20.0, ("full", 1): 22.0}
    (row,) = evaluate_claim(nested(gains), spec("1"))
    assert (row.n, row.pairs, row.seeds) == (2, 4, 2)
    assert row.mean == pytest.approx(16.0)
    keys = {"study": "s", "dataset": "d"}
    effects = pd.DataFrame(
        [keys | {"size": z, "seed": s, "effect": g} for (z, s), g in gains.items()]
    )
    assert cluster_values(effects)["effect"].tolist() == [11.0, 21.0]  # the mean per seed


def test_collapsed_and_unconverged_runs_leave_quality_claims_with_a_sensitivity_row():
    gains = {("full", s): 15.0 + 0.1 * s for s in range(5)}
    runs = nested(gains).assign(converged=True, collapsed=False)
    bad = (runs["arm"] == "sagan") & (runs["seed"] == 0)
    runs.loc[bad, "collapsed"] = True
    runs.loc[bad, "fd_domain"] = 400.0  # what a collapsed run scores
    runs.loc[(runs["arm"] == "dcgan") & (runs["seed"] == 1), "converged"] = False
    kept, everything = evaluate_claim(runs, spec("1"))
    assert kept.n == 3 and kept.verdict == INSIDE
    assert kept.excluded == "sagan lost 1 of 5 (1 collapsed); dcgan lost 1 of 5 (1 not converged)"
    assert everything.level == "all runs kept" and everything.n == 5
    assert everything.verdict == INCONCLUSIVE  # the collapsed run decides, when kept
    # a cost measured on runs keeps them all: a collapsed run's seconds still count
    runs["s_per_it"] = np.where(runs["arm"] == "sagan", 1.4, 1.0)
    (cost,) = evaluate_claim(runs, spec("3-runs"))
    assert cost.n == 5 and not cost.excluded


def floor_file(mean: float, dataset: str = "d") -> pd.DataFrame:
    return pd.DataFrame([{"dataset": dataset, "metric": "fd_domain", "mean": mean, "sd": 0.1}])


def test_a_relative_margin_below_the_floor_reads_untestable():
    gains = {("full", s): 1.0 + 0.2 * s for s in range(5)}  # about 1.4 % better
    better = replace(spec("1"), claimed=(0.0, math.inf))  # "attention improves FD"
    (row,) = evaluate_claim(nested(gains), better, floor=floor_file(8.0))
    assert row.floor == pytest.approx(8.0)  # 8 FD on a baseline of 100: 8 % > the 5 % margin
    assert row.verdict == UNTESTABLE and "exceeds the margin" in row.note
    assert "mean > 8" in row.tests  # 0 is tested as the floor
    # the claimed 12-18 % lies beyond the floor, so "smaller than claimed" is still read
    assert evaluate_claim(nested(gains), spec("1"), floor=floor_file(8.0))[0].verdict == SMALLER
    (fine,) = evaluate_claim(nested(gains), better, floor=floor_file(1.0))
    assert fine.verdict == INSIDE  # a 1 % floor: a 1.4 % gain is told from noise


def test_a_margin_in_floors_scales_with_the_datasets_floor():
    runs = nested({("full", s): 0.0 for s in range(4)}).assign(
        fd_domain_gap=lambda r: np.where(r["arm"] == "sagan", 0.3, 0.0) + 0.01 * r["seed"]
    )
    (row,) = evaluate_claim(runs, spec("4"), floor=floor_file(0.5))
    assert row.margin == pytest.approx(1.0) and row.margin_rule == "2 x the real-vs-real floor"
    assert row.verdict == INSIDE  # 0.3 > 0, shown
    (small,) = evaluate_claim(runs, spec("4"), floor=floor_file(0.05))
    assert small.margin == pytest.approx(0.1)


def test_a_metric_whose_real_data_score_0_is_flagged_not_scored():
    rows = nested({("full", s): 0.0 for s in range(4)})
    rows["arm"] = rows["arm"].map({"dcgan": "video_baseline", "sagan": "video3d"})
    rows["fd_video_domain3d"] = 1.0
    rows["temporal_consistency"] = np.where(rows["arm"] == "video3d", 0.2, 0.1)
    rows["temporal_consistency_real_heldout"] = 0.0
    (row,) = evaluate_claim(rows, spec("6"))
    assert row.verdict == UNTESTABLE and "cannot score" in row.note
    rows["temporal_consistency_real_heldout"] = 0.8
    assert evaluate_claim(rows, spec("6"))[0].verdict == INSIDE


def test_holm_adjusts_the_deciding_p_across_the_table_and_the_adjusted_p_decides():
    one = nested({("full", s): 15.0 + 1.04 * (s - 1) for s in range(3)})  # p just under 0.025
    (alone,) = evaluate_claim(one, spec("1"))
    assert alone.verdict == INSIDE and 0.01 < alone.p < 0.025
    two = pd.concat([one, one.assign(dataset="e")], ignore_index=True)
    table = evaluate_claims(two, None, [spec("1")])
    tested = table[table["level"] == "dataset"]
    expected = multipletests(tested["p"], method="holm")[1]
    assert tested["p_holm"].tolist() == pytest.approx(list(expected))
    assert (tested["verdict"] == INCONCLUSIVE).all()  # 2 x p > 0.025 after Holm
    assert "not after Holm's adjustment" in tested["note"].iloc[0]


def test_sensitivity_and_unpooled_rows_stay_outside_holms_family():
    gains = {("full", s): 15.0 + 0.1 * s for s in range(5)}
    runs = nested(gains).assign(collapsed=False)
    runs.loc[(runs["arm"] == "sagan") & (runs["seed"] == 0), "collapsed"] = True
    rows = evaluate_claim(runs, spec("1"))
    adjust_holm(rows)
    assert rows[0].p_holm == pytest.approx(rows[0].p)  # a family of one
    assert math.isnan(rows[1].p_holm)


def test_a_claim_whose_every_run_is_still_improving_says_so_and_reads_them_kept():
    runs = nested({("full", s): 15.0 + 0.1 * s for s in range(4)}).assign(converged=False)
    main, kept = evaluate_claim(runs, spec("1"))
    assert (main.dataset, main.verdict, main.n) == ("d", INCONCLUSIVE, 0)
    assert "no pair of learned runs left" in main.note
    assert (
        main.excluded == "sagan lost 4 of 4 (4 not converged); dcgan lost 4 of 4 (4 not converged)"
    )
    assert kept.level == "all runs kept" and kept.verdict == INSIDE and kept.n == 4
    # other arms' failed runs do not touch a claim whose arms are absent
    (absent,) = evaluate_claim(runs, spec("5b"))
    assert absent.verdict == "not measured in this study" and not absent.excluded


def test_a_claim_with_its_arms_present_does_not_say_how_to_add_them():
    from sagan.report.claims import claims_table

    runs = nested({("full", s): 15.0 + 0.1 * s for s in range(4)}).assign(converged=False)
    text = claims_table(evaluate_claims(runs, None, [spec("1"), spec("5b")])).text
    assert spec("1").needs not in text["note"].iloc[0]  # its arms ran; their runs failed
    assert spec("5b").needs in text["note"].iloc[-1]  # not measured: says what would


def test_pooling_needs_shared_signs_two_seeds_each_and_no_heterogeneity():
    from sagan.report.clusters import pooling_check

    def clusters(values: dict[str, list[float]]) -> pd.DataFrame:
        rows = [{"dataset": d, "effect": v} for d, vs in values.items() for v in vs]
        return pd.DataFrame(rows)

    ok, why = pooling_check(clusters({"a": [1.0, 2.0, 3.0], "b": [1.5, 2.5, 2.0]}))
    assert ok and why.startswith("heterogeneity F-test p = ") and "(a +2, b +2)" in why
    assert pooling_check(clusters({"a": [1.0, 2.0], "b": [-1.0, -2.0]})) == (
        False,
        "dataset means of opposite sign (a +1.5, b -1.5)",
    )
    assert not pooling_check(clusters({"a": [1.0, 2.0], "b": [3.0]}))[0]  # one seed in b
    assert pooling_check(clusters({"a": [1.0, 2.0], "b": [2.0, 3.0]}))[0]  # 2 seeds: enough
    differ, why = pooling_check(clusters({"a": [1.0, 1.1, 1.2], "b": [9.0, 9.1, 9.2]}))
    assert not differ and "datasets differ" in why
    assert not pooling_check(clusters({"a": [1.0, 1.0], "b": [2.0, 2.0]}))[0]  # exact, apart
    assert pooling_check(clusters({"a": [1.0, 1.0], "b": [1.0, 1.0]}))[0]  # exact, alike


def test_the_lost_note_counts_each_run_once_by_its_worst_reason():
    from sagan.report.clusters import cluster_values, lost_note

    runs = pd.DataFrame(
        {
            "arm": ["a", "a", "a", "b"],
            "collapsed": [True, True, False, False],
            "converged": [False, True, False, True],
        }
    )
    assert lost_note(runs, ["a", "b"]) == "a lost 3 of 3 (2 collapsed, 1 not converged)"
    empty = cluster_values(pd.DataFrame(columns=["study", "dataset", "size", "seed", "effect"]))
    assert list(empty.columns) == ["study", "dataset", "seed", "effect", "pairs"]


def test_the_claims_table_renders_each_column_exactly():
    from sagan.report.claims import claims_table

    gains = {("full", s): 10.0 + 2.0 * s for s in range(3)}  # 10, 12, 14 %
    runs = nested(gains).assign(converged=True)
    runs.loc[(runs["arm"] == "sagan") & (runs["seed"] == 2), "converged"] = False
    rows = evaluate_claims(runs, None, [spec("1"), spec("5b")], floor=floor_file(1.0))
    text = claims_table(rows).text
    kept, everything, missing = (text.iloc[i] for i in range(3))
    assert kept["dataset"] == "d" and everything["dataset"] == "d, all runs kept (sensitivity)"
    assert kept["claimed"] == "[12, 18]" and missing["claimed"] == "[0, ∞]"
    assert kept["measured [95% CI]"].startswith("11 [") and kept["n"] == "2 seeds (2 pairs)"
    assert kept["margin"] == "±5 (5 % of the baseline); floor 1"
    assert kept["excluded"] == "sagan lost 1 of 3 (1 not converged)"
    c = rows.iloc[0]
    assert kept["deciding test"] == f"{c['test']}: p = {c['p']:.3g}, Holm p = {c['p_holm']:.3g}"
    assert kept["MDE"] == f"{c['mde']:.3g}" and kept["verdict"].startswith(c["verdict"] + " (d;")
    assert everything["deciding test"].endswith(f"p = {rows.iloc[1]['p']:.3g}")  # no Holm
    assert (missing["measured [95% CI]"], missing["n"], missing["deciding test"]) == ("–",) * 3
    assert missing["margin"] == "–" and missing["MDE"] == ""  # nothing measured, no margin
    assert missing["note"] == spec("5b").needs
