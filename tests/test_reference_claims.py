"""What a reader of the claims table sees, pinned on hand-built summaries, profiles and logs
whose answer is known: the verdict word, the mean and its interval, the margin and the floor
it is read against, the scale, Holm's adjustment, and the text of every note (the loaded
machine, the power of the seeds, equal training time, why a row is untestable). A wrong
number or a dropped clause in a note still renders a table, so only a reference catches it."""

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sagan.errors import ConfigError
from sagan.report.claims import (
    Scale,
    Verdict,
    adjust_holm,
    evaluate_claim,
    evaluate_claims,
    margin_of,
    measured_verdict,
    placement_sweeps,
    scale,
)
from sagan.report.verdict_rules import (
    INCONCLUSIVE,
    INSIDE,
    LARGER,
    NOT_MEASURED,
    NOT_POOLED,
    UNTESTABLE,
)
from tests.design_claims import spec
from tests.test_claims_data import NOISY as NOISY_ROUNDS
from tests.test_claims_data import STEADY as STEADY_ROUNDS
from tests.test_claims_data import profile_row

INF = math.inf
CAVEAT = "a caveat"
# claim 1 with a note, and {metric} in every text, so each shows which metric it was read on
ONE = replace(
    spec("1"), note=CAVEAT, comparison="{arm} vs {baseline} on {metric}", needs="score {metric}"
)
UP = replace(ONE, claimed=(0.0, INF))  # "attention improves FD", margin 5 %
MEASURE = (
    "median over {} interleaved repeats per dataset; interval: order statistics covering that "
    "median >= 95% without the extreme rounds (needs 9 rounds; fewer: not decided); range over "
    "datasets"
)
NONE_LEARNED = (
    "no pair of learned runs left: every pair lost a run that collapsed or did not converge "
    "(column excluded); the all-runs-kept row below reads the same pairs with them"
)


def paired(gains: dict[str, list[float]], base: float = 50.0, **more) -> pd.DataFrame:
    """dcgan at FD ``base`` and sagan gains[dataset][seed] % better; one size per dataset."""
    rows = []
    for dataset, per_seed in gains.items():
        for seed, gain in enumerate(per_seed):
            for arm, fd in (("dcgan", base), ("sagan", base * (1 - gain / 100))):
                rows.append(
                    {"study": "s", "dataset": dataset, "size": "full", "seed": seed}
                    | {"arm": arm, "status": "done", "fd_domain": fd, "resolution": 32}
                    | {"train_images": 1000, "iterations": 200}
                    | more
                )
    return pd.DataFrame(rows)


def floors(**per_dataset: float) -> pd.DataFrame:
    """A noise-floor file: the real-vs-real FD of each dataset, in the given order."""
    return pd.DataFrame(
        [
            {"dataset": d, "metric": "fd_domain", "mean": m, "sd": 0.1}
            for d, m in per_dataset.items()
        ]
    )


def mde(values) -> float:
    """The paired t-test's minimum detectable effect (80% power, two-sided 5%), by hand."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    t = stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)
    return t * x.std(ddof=1) / math.sqrt(n)


# --- side-by-side profile rows ------------------------------------------------------------


def test_a_side_by_side_row_reads_each_datasets_median_and_order_statistic_interval():
    rounds = {
        "old": [math.nan],  # a profile written before the repeats were kept
        "a": [35.0, 40.0, 45.0, 38.0, 42.0, 36.0, 44.0, 39.0, 41.0],  # 9: the 2nd from each end
        "b": [float(v) for v in range(26, 47)],  # 21: the 6th from each end (97.3%)
    }
    r = measured_verdict(rounds, (30, 50))
    assert r["verdict"] == INCONCLUSIVE  # "old" decides nothing, so the row cannot read a word
    assert (r["n"], r["dataset"]) == (3, "old, a, b")
    assert r["mean"] == pytest.approx((40 + 36) / 2)  # the datasets' medians, averaged
    assert (r["ci_lo"], r["ci_hi"]) == (31.0, 44.0)  # the range over the datasets' intervals
    assert r["note"] == (
        "old: no per-repeat times (an older profile); a: +40 [+36, +44] over 9; "
        "b: +36 [+31, +41] over 21"
    )
    assert r["test"] == MEASURE.format("9/21")
    del rounds["old"]
    assert measured_verdict(rounds, (30, 50))["verdict"] == INSIDE
    assert measured_verdict({}, (30, 50)) == {"n": 0, "verdict": NOT_MEASURED}


def test_a_side_by_side_row_with_only_old_profiles_has_no_number():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mean of an empty slice
        r = measured_verdict({"old": []}, (30, 50))
    assert r["verdict"] == INCONCLUSIVE and r["test"] == MEASURE.format("no")
    assert all(math.isnan(r[k]) for k in ("mean", "ci_lo", "ci_hi"))


def loaded_profile(b_rounds: list[float], load: float = 3.5) -> pd.DataFrame:
    """sagan over dcgan on a (fp32, cpu, 32 px, +40 % in every round) and b (bf16 on cuda at
    64 px, sagan's ms/step ``b_rounds`` over the baseline's 10), both while loaded."""
    return pd.DataFrame(
        [
            profile_row("a", "dcgan", "dcgan", 10.0, 10.0, load=load),
            profile_row("a", "sagan", "dcgan", 14.0, 10.0, load=load),
            profile_row("b", "dcgan", "dcgan", 10.0, 10.0, "bf16", load=load),
            profile_row("b", "sagan", "dcgan", 14.0, 10.0, "bf16", b_rounds, load),
        ]
    ).assign(resolution=[32, 32, 64, 64], device=["cpu", "cpu", "cuda", "cuda"])


def test_a_profile_row_names_the_loaded_machine_and_whether_the_interval_decides_anyway():
    three = replace(spec("3"), note=CAVEAT)
    load = "load 3.5 before / 3.5 after on 2 cores"
    steady = evaluate_claim(pd.DataFrame(), three, loaded_profile(STEADY_ROUNDS))[0]
    assert steady.verdict == INSIDE and steady.mean == pytest.approx(40.0)
    assert steady.note == (
        f"{CAVEAT}; a: +40 [+40, +40] over 9; b: +40 [+36, +44] over 9; "
        f"the machine was loaded while profiling a ({load}), b ({load}): "
        "the interval decides even so"
    )
    assert steady.scale == "a, b; 32 px/64 px; bf16/fp32 on cpu, cuda"
    assert steady.test == MEASURE.format(9)
    noisy = evaluate_claim(pd.DataFrame(), three, loaded_profile(NOISY_ROUNDS))[0]
    assert noisy.verdict == INCONCLUSIVE
    assert noisy.note.endswith(f"while profiling a ({load}), b ({load})")  # nothing decides
    calm = evaluate_claim(pd.DataFrame(), three, loaded_profile(NOISY_ROUNDS, 0.5))[0]
    assert calm.note == f"{CAVEAT}; a: +40 [+40, +40] over 9; b: +40 [+25, +55] over 9"


def test_a_profile_claim_reads_only_its_datasets_and_a_saving_is_the_time_saved():
    only_a = replace(spec("3"), datasets=("a",))
    (a,) = evaluate_claim(pd.DataFrame(), only_a, loaded_profile(NOISY_ROUNDS))
    assert (a.n, a.dataset, a.verdict) == (1, "a", INSIDE)  # b's noisy rounds left out
    assert a.scale == "a; 32 px; fp32 on cpu"
    saving = replace(spec("5a-cost"), arm="sagan", baseline="dcgan", claimed=(-50.0, -30.0))
    (s,) = evaluate_claim(pd.DataFrame(), saving, loaded_profile(STEADY_ROUNDS))
    assert s.mean == pytest.approx(-40.0) and (s.ci_lo, s.ci_hi) == pytest.approx((-44, -36))


# --- where a row was measured -------------------------------------------------------------


def test_the_scale_lists_datasets_resolutions_sizes_and_iterations_ascending():
    runs = pd.DataFrame(
        {
            "dataset": ["b", "a", "a"],
            "resolution": [64.0, 32.0, math.nan],
            "train_images": [1000, 100, 100],
            "iterations": [1000, 500, 500],
        }
    )
    assert scale(runs) == "a, b; 32 px/64 px; 100/1000 images; 500/1000 it"
    assert scale(runs[["dataset"]]) == "a, b"
    assert scale(runs.iloc[0:0]) == ""


def test_a_measured_row_says_what_it_compared_on_which_metric():
    (row,) = evaluate_claim(paired({"d": [10.0, 12.0, 14.0, 16.0]}), ONE)
    assert row.comparison == "sagan vs dcgan on fd_domain"
    assert row.effect == "FD improvement, % of the baseline (fd_domain; > 0: better)"
    assert row.needs == "score fd_domain" and row.note.startswith(CAVEAT)
    assert row.scale == "d; 32 px; 1000 images; 200 it"
    (absent,) = evaluate_claim(paired({"d": [10.0, 12.0]}), replace(ONE, datasets=("e",)))
    assert absent.verdict == NOT_MEASURED
    assert (absent.comparison, absent.needs) == ("sagan vs dcgan on fd_domain", "score fd_domain")


def test_a_relative_effect_is_a_percentage_of_the_baseline_not_fd_points():
    (row,) = evaluate_claim(paired({"d": [12.5, 13.0, 13.5, 13.0]}, base=50.0), ONE)
    assert row.mean == pytest.approx(13.0) and row.verdict == INSIDE  # not 6.5 FD points
    assert row.note == CAVEAT  # a decided row: no power note


# --- margins, floors and why a row is untestable ------------------------------------------


def test_a_margin_and_floor_in_the_effects_unit():
    gap = spec("4")  # 2 floors, an absolute gap
    pairs = spec("1-pairs")  # sesoi 0.05 of a fraction
    assert margin_of(ONE, Scale(-50.0, 4.0)) == (5.0, 8.0, "5 % of the baseline")  # 4 of |-50|
    assert margin_of(replace(gap, sesoi_floors=2.5), Scale(50.0, 0.4)) == (
        1.0,
        0.4,
        "2.5 x the real-vs-real floor",
    )
    m, f, rule = margin_of(gap, Scale(50.0, None))
    assert math.isnan(m) and math.isnan(f) and rule == "no noise floor measured: no margin"
    assert margin_of(pairs, Scale(0.5, 0.3)) == (0.05, 0.3, "0.05 (effect's unit)")
    m, f, rule = margin_of(replace(ONE, sesoi=None), Scale(50.0, 4.0))
    assert math.isnan(m) and f == 8.0 and rule == ""


def test_the_floor_is_the_rows_own_datasets_and_a_missing_one_leaves_no_floor():
    runs = paired({"d": [20.0, 21.0, 22.0, 23.0]})
    (row,) = evaluate_claim(runs, UP, floor=floors(e=1.0, d=4.0))
    assert row.floor == pytest.approx(8.0)  # d's 4 FD on a baseline of 50: e's is not d's
    (none,) = evaluate_claim(runs, UP, floor=floors(e=1.0))
    assert math.isnan(none.floor) and none.margin == 5.0 and none.verdict == INSIDE


def test_a_floor_above_the_margin_is_named_with_both_numbers():
    runs = paired({"d": [2.0, 2.5, 3.0, 3.5]})  # about 2.75 % better
    (row,) = evaluate_claim(runs, UP, floor=floors(d=4.0))  # an 8 % floor, a 5 % margin
    assert row.verdict == UNTESTABLE
    assert row.note == (
        f"{CAVEAT}; the real-vs-real floor (8) exceeds the margin ±5: effects below the floor "
        "are noise at this sample count, so no equivalence is tested and 0 is tested as the floor"
    )
    at_margin = replace(UP, sesoi=8.0)  # a floor equal to the margin does not exceed it
    assert "exceeds" not in evaluate_claim(runs, at_margin, floor=floors(d=4.0))[0].note


def test_without_a_margin_the_floor_is_shown_but_not_tested():
    bare = replace(UP, sesoi=None)
    (row,) = evaluate_claim(paired({"d": [2.0, 2.5, 3.0, 3.5]}), bare, floor=floors(d=4.0))
    assert row.floor == pytest.approx(8.0) and math.isnan(row.margin)
    assert row.verdict == INSIDE and row.note == CAVEAT  # 2.75 % > 0, no floor in the way
    p_up = stats.ttest_1samp([2.0, 2.5, 3.0, 3.5], 0.0, alternative="greater").pvalue
    p_down = stats.ttest_1samp([2.0, 2.5, 3.0, 3.5], 0.0, alternative="less").pvalue
    assert row.tests == f"mean > 0: p = {p_up:.3g}; mean < 0: p = {p_down:.3g}"


def test_a_metric_the_real_data_cannot_score_is_named_and_untestable():
    runs = paired({"a": [20.0, 21.0, 22.0, 23.0], "b": [21.0, 22.0, 23.0, 24.0]})
    a, b, pooled = evaluate_claim(runs.assign(fd_domain_real_heldout=0.004), UP)
    why = "real held-out fd_domain is 0.004 at this scale: the metric cannot score"
    assert a.verdict == UNTESTABLE and a.note == f"{CAVEAT}; {why}"
    assert pooled.verdict == UNTESTABLE and why in pooled.note
    # at 0.005 the metric scores: the floor (16 % > 5 %) is then the only caveat
    (c,) = evaluate_claim(
        runs[runs["dataset"] == "a"].assign(fd_domain_real_heldout=0.005), UP, floor=floors(a=8.0)
    )
    assert c.verdict == INSIDE and "exceeds the margin ±5" in c.note and "cannot" not in c.note


# --- the power of an inconclusive row ------------------------------------------------------

NOISY = [-8.0, 10.0, -3.0, 9.0, 2.0]


def test_an_underpowered_row_says_its_mde_and_about_how_many_seeds_would_do():
    (row,) = evaluate_claim(paired({"d": NOISY}), UP)
    assert row.verdict == INCONCLUSIVE and row.mde == pytest.approx(mde(NOISY))
    sd, n = np.std(NOISY, ddof=1), 2
    while (stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / math.sqrt(n) > 5.0:
        n += 1
    assert row.note == (
        f"{CAVEAT}; underpowered: MDE {mde(NOISY):.3g} > 5 needed to tell the claim from no "
        f"effect; about {n} seeds would detect 5"
    )
    two = evaluate_claim(paired({"d": [2.0, 8.0]}), UP)[0]  # two seeds are enough to say so
    assert two.verdict == INCONCLUSIVE and "underpowered: MDE" in two.note


def test_a_row_past_a_thousand_seeds_does_not_guess_a_count():
    tiny = replace(UP, sesoi=0.001)
    (row,) = evaluate_claim(paired({"d": NOISY}), tiny)
    assert row.note == (
        f"{CAVEAT}; underpowered: MDE {mde(NOISY):.3g} > 0.001 needed to tell the claim from "
        "no effect"
    )


def test_a_row_with_nothing_to_tell_has_no_power_note():
    (row,) = evaluate_claim(paired({"d": NOISY}), replace(UP, sesoi=None))
    assert row.verdict == INCONCLUSIVE and row.note == CAVEAT  # no bound, no margin


def test_an_mde_within_the_distance_says_the_effect_is_near_a_bound():
    near = [11.5, 12.5, 11.8, 12.2, 12.0]  # at the claimed 12: neither inside nor below
    (row,) = evaluate_claim(paired({"d": near}), ONE)
    assert row.verdict == INCONCLUSIVE
    assert row.note == f"{CAVEAT}; MDE {mde(near):.3g} <= 5 needed: the effect is near a bound"
    at = replace(ONE, sesoi=row.mde)  # the margin exactly what these seeds detect
    (same,) = evaluate_claim(paired({"d": near}), at)
    assert same.note.endswith("needed: the effect is near a bound")


# --- failed runs, datasets and the pooled row ----------------------------------------------


def test_a_dataset_that_lost_every_pair_is_shown_and_the_next_one_still_read():
    runs = paired({"a": [20.0, 21.0, 22.0, 23.0], "b": [20.0, 21.0, 22.0, 23.0]})
    runs["converged"] = runs["dataset"] == "b"  # a's runs were all still improving
    a, b, a_kept, b_kept = evaluate_claim(runs, UP)
    assert (a.dataset, a.verdict, a.n) == ("a", INCONCLUSIVE, 0)
    assert a.note == f"{CAVEAT}; {NONE_LEARNED}"
    assert a.excluded == "sagan lost 4 of 4 (4 not converged); dcgan lost 4 of 4 (4 not converged)"
    assert (b.dataset, b.verdict, b.n, b.excluded) == ("b", INSIDE, 4, "")
    assert (a_kept.level, a_kept.verdict, b_kept.level) == (
        "all runs kept",
        INSIDE,
        "all runs kept",
    )


def test_the_pooled_row_counts_the_runs_lost_in_every_dataset_it_joins():
    runs = paired({"a": [20.0, 21.0, 22.0, 23.0, 24.0], "b": [21.0, 22.0, 23.0, 24.0, 25.0]})
    runs["collapsed"] = (runs["dataset"] == "a") & (runs["arm"] == "sagan") & (runs["seed"] == 0)
    a, b, pooled, a_kept, b_kept = evaluate_claim(runs, UP, floor=floors(a=0.5, b=1.0))
    assert (pooled.level, pooled.dataset, pooled.n, pooled.pairs) == ("pooled", "a, b", 9, 9)
    assert pooled.excluded == "sagan lost 1 of 10 (1 collapsed)"  # a's 5 runs and b's 5
    assert (a.excluded, b.excluded) == ("sagan lost 1 of 5 (1 collapsed)", "")
    assert pooled.note.startswith(f"{CAVEAT}; pooled: heterogeneity F-test p = ")
    assert pooled.scale == "a, b; 32 px; 1000 images; 200 it"
    # the sensitivity rows read the same floor as the rows they keep the runs for
    assert (a.floor, a_kept.floor, b_kept.floor) == pytest.approx((1.0, 1.0, 2.0))


def test_datasets_of_opposite_sign_are_not_pooled_and_the_note_says_so():
    runs = paired({"a": [20.0, 21.0, 22.0], "b": [-20.0, -21.0, -22.0]})
    *_, pooled = evaluate_claim(runs, UP)
    assert pooled.verdict == NOT_POOLED
    assert pooled.note == f"{CAVEAT}; dataset means of opposite sign (a +21, b -21)"


def gap_runs(datasets: tuple[str, ...], seeds: int = 4) -> pd.DataFrame:
    """dcgan's generalisation gap 1.0 and sagan's 1.3 + 0.01 x seed, at 1000 images."""
    runs = paired({d: [0.0] * seeds for d in datasets})
    bigger = np.where(runs["arm"] == "sagan", 0.3 + 0.01 * runs["seed"], 0.0)
    return runs.assign(fd_domain_gap=1.0 + bigger)


def test_the_pooled_row_reads_the_strictest_datasets_margin():
    four = spec("4")  # 2 x the floor
    *_, pooled = evaluate_claim(gap_runs(("a", "b")), four, floor=floors(a=0.5, b=0.25))
    assert (pooled.margin, pooled.floor) == (0.5, 0.25)  # b's, the smaller
    *_, pooled = evaluate_claim(gap_runs(("a", "b")), four, floor=floors(b=0.25))
    assert (pooled.margin, pooled.floor) == (0.5, 0.25)  # a has no margin: b's still holds
    assert pooled.margin_rule == "2 x the real-vs-real floor"


def test_a_claim_below_a_size_reads_only_runs_below_it_and_says_when_none_are_above():
    four = replace(spec("4"), note=CAVEAT)
    small = gap_runs(("d",))
    failed_big = small.iloc[:2].assign(size="big", train_images=200_000, status="failed")
    (row,) = evaluate_claim(pd.concat([small, failed_big], ignore_index=True), four)
    assert row.verdict == INSIDE and row.mean == pytest.approx(0.315)
    assert row.note == (
        f"{CAVEAT}; no run has >= 100k images, so the contrast above the threshold is not measured"
    )
    # runs at exactly 100k are above the threshold: left out, and they make the note needless
    at = small.assign(size="100k", train_images=100_000, fd_domain_gap=9.0)
    (both,) = evaluate_claim(pd.concat([small, at], ignore_index=True), four)
    assert both.mean == pytest.approx(0.315) and both.pairs == 4 and both.note == CAVEAT
    (no_status,) = evaluate_claim(small.drop(columns="status"), four)
    assert no_status.mean == pytest.approx(0.315)


# --- metrics: s_per_it, headline gap, undeclared, video rows -------------------------------


def test_seconds_per_iteration_come_from_the_throughput_where_only_that_was_logged():
    slower = replace(spec("3-runs"), relative=False, sesoi=0.1, claimed=(0.2, 0.4))
    runs = paired({"d": [0.0] * 4})
    s_per_it = np.where(runs["arm"] == "sagan", 0.8 + 0.01 * runs["seed"], 0.5)
    (row,) = evaluate_claim(runs.assign(it_per_s=1 / s_per_it), slower)
    assert row.mean == pytest.approx(0.315) and row.verdict == INSIDE  # seconds, not its/s
    assert row.effect.startswith("wall-clock per iteration over the baseline")
    logged = runs.assign(it_per_s=1.0, s_per_it=s_per_it)  # s_per_it as logged wins
    assert evaluate_claim(logged, slower)[0].mean == pytest.approx(0.315)


def test_an_undeclared_metric_measures_arm_minus_baseline_without_a_floor():
    score = replace(
        spec("9"), arm="sagan", baseline="dcgan", metric="my_score", raw_difference=True
    )
    score = replace(score, sesoi=1.0, effect="{metric} change")
    runs = paired({"d": [0.0] * 4}, it_per_s=2.0)
    runs["my_score"] = np.where(runs["arm"] == "sagan", 3.0 + 0.1 * runs["seed"], 1.0)
    (row,) = evaluate_claim(runs, score, floor=floors(d=4.0))
    assert row.mean == pytest.approx(2.15) and math.isnan(row.floor)
    assert row.effect == "my_score change"
    with pytest.raises(ConfigError) as err:
        evaluate_claim(runs, replace(score, raw_difference=False))
    assert str(err.value) == (
        "claim '9': metric 'my_score' declares no better direction (sagan.metrics.declared); "
        "set raw_difference: true to measure arm - baseline"
    )


def test_a_gap_claim_without_an_fd_column_is_not_measured_and_names_no_metric():
    four = replace(spec("4"), effect="{metric} amplified")
    (row,) = evaluate_claim(gap_runs(("d",)).drop(columns=["fd_domain", "fd_domain_gap"]), four)
    assert row.verdict == NOT_MEASURED and row.effect == "FD amplified"


def video_runs(arms: dict[str, float]) -> pd.DataFrame:
    """video_baseline at temporal consistency 0.5 and each arm at arms[arm] + 0.01 x seed, on
    a video dataset; beside them dcgan and sagan image runs (no video FD)."""
    rows = []
    for seed in range(4):
        keys = {"study": "s", "size": "full", "seed": seed, "status": "done"}
        for arm, tc in {"video_baseline": 0.5 - 0.01 * seed, **arms}.items():
            rows.append(keys | {"dataset": "clips", "arm": arm, "fd_video_domain3d": 1.0}
                        | {"temporal_consistency": tc + 0.01 * seed})  # fmt: skip
        for arm in ("dcgan", "sagan"):
            rows.append(keys | {"dataset": "a", "arm": arm, "temporal_consistency": 0.1})
    return pd.DataFrame(rows)


def test_every_video_arm_gets_its_row_and_image_runs_are_not_read():
    six = replace(spec("6"), effect="{metric} difference")
    rows = evaluate_claim(video_runs({"video3d": 0.7, "video2d": 0.6}), six)
    assert [r.comparison for r in rows] == [
        "video2d vs video_baseline (video), paired",
        "video3d vs video_baseline (video), paired",
    ]
    assert [r.mean for r in rows] == pytest.approx([0.115, 0.215])
    assert {r.effect for r in rows} == {"temporal_consistency difference"}
    (alone,) = evaluate_claim(video_runs({}), six)  # the baseline ran, no arm beside it
    assert alone.verdict == NOT_MEASURED
    assert alone.comparison == "3D-attention video variant vs video_baseline (video), paired"
    assert alone.effect == "temporal_consistency difference"


# --- claim 2: placement sweeps --------------------------------------------------------------


def sweep_runs(sweeps: dict[str, dict[int, object]], seeds: int = 4, variant="sagan"):
    """dcgan at FD 50 and, per sweep, one arm per G side at gains[side](seed) % better."""
    rows = []
    for seed in range(seeds):
        keys = {"study": "s", "dataset": "a", "size": "full", "seed": seed, "status": "done"}
        keys |= {"resolution": 32, "train_images": 1000, "iterations": 100}
        rows.append(keys | {"arm": "dcgan", "variant": "dcgan", "sweep": ""}
                    | {"g_attention": "", "fd_domain": 50.0})  # fmt: skip
        for sweep, gains in sweeps.items():
            for side, gain in gains.items():
                rows.append(
                    keys
                    | {"arm": f"{sweep}.g{side}", "variant": variant}
                    | {"sweep": sweep, "g_attention": str(side)}
                    | {"fd_domain": 50.0 * (1 - gain(seed) / 100)}
                )
    return pd.DataFrame(rows)


# per seed 0..3: the best mid side (8) minus the best end (4 or 16): 13, 15, 17, 18
PLACES = {4: lambda s: 5.0 + s, 8: lambda s: 20.0 + 2 * s, 16: lambda s: 7.0}
MID_MINUS_ENDS = [13.0, 15.0, 17.0, 18.0]


def test_a_sweeps_sides_are_read_from_distinct_single_sides_in_sweep_order():
    runs = sweep_runs({"z": PLACES, "y": PLACES})
    assert placement_sweeps(runs) == {"y": [4, 8, 16], "z": [4, 8, 16]}
    assert list(placement_sweeps(runs)) == ["y", "z"]
    assert placement_sweeps(runs, "sagan") == placement_sweeps(runs)
    assert placement_sweeps(runs, "linear") == {}
    assert placement_sweeps(runs[["sweep", "g_attention"]]) == placement_sweeps(runs)
    assert placement_sweeps(runs.drop(columns="sweep")) == {}
    # arms at three sides outside any sweep (a column of empty CSV cells: floats) are no sweep
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas: filling floats with text will raise
        assert placement_sweeps(runs.assign(sweep=np.nan)) == {}


def test_claim_2_reads_the_best_mid_side_minus_the_best_end_per_seed():
    two = replace(spec("2"), effect="{metric} gain at mid minus at ends", note=CAVEAT)
    runs = pd.concat(
        [
            sweep_runs({"s1": PLACES, "s2": PLACES}),
            sweep_runs({"lin": PLACES}, variant="linear").query("arm != 'dcgan'"),
        ],
        ignore_index=True,
    )
    rows = evaluate_claim(runs, two, floor=floors(a=0.5))
    assert [r.comparison for r in rows] == [
        f"sagan at each G placement of one sweep vs dcgan, paired (sweep {s}, G sides [4, 8, 16])"
        for s in ("s1", "s2")
    ]  # the linear sweep is another claim's
    first = rows[0]
    assert first.mean == pytest.approx(np.mean(MID_MINUS_ENDS)) and first.verdict == INSIDE
    assert (first.ci_lo, first.ci_hi) == pytest.approx(
        stats.t.interval(0.95, 3, np.mean(MID_MINUS_ENDS), stats.sem(MID_MINUS_ENDS))
    )
    assert first.effect == "fd_domain gain at mid minus at ends"
    assert first.scale == "a; 32 px; 1000 images; 100 it; G sides [4, 8, 16]"
    assert first.floor == pytest.approx(1.0)  # 0.5 FD on dcgan's 50
    assert first.note == CAVEAT
    (absent,) = evaluate_claim(runs.drop(columns="fd_domain"), two)
    assert absent.verdict == NOT_MEASURED and absent.effect == "FD gain at mid minus at ends"


def test_a_side_whose_runs_all_collapsed_leaves_no_pair_and_names_its_arm():
    runs = sweep_runs({"s1": PLACES}).assign(collapsed=False)
    runs.loc[runs["arm"] == "s1.g4", "collapsed"] = True
    main, kept = evaluate_claim(runs, spec("2"))
    assert main.verdict == INCONCLUSIVE and NONE_LEARNED in main.note
    assert main.excluded == "s1.g4 lost 4 of 4 (4 collapsed)"
    assert kept.level == "all runs kept" and kept.mean == pytest.approx(np.mean(MID_MINUS_ENDS))


# --- claim 7-time: FD while training at equal seconds --------------------------------------


def training_logs(seeds: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sagan scores FD 60, 50, 40 at 10, 20, 30 s; sagan-prog 45, 35, 30 + 0.5 x seed at 8, 16,
    24 s (seed 3: 26 s). At 24 s, the last time both reached, sagan's curve reads 46 (at 26 s,
    44)."""
    logs, runs = [], []
    for seed in range(seeds):
        keys = {"study": "s", "dataset": "d", "size": "full", "seed": seed}
        for arm, seconds, fds in (
            ("sagan", (10, 20, 30), (60.0, 50.0, 40.0)),
            ("sagan-prog", (8, 16, 24 + 2 * (seed == 3)), (45.0, 35.0, 30.0 + 0.5 * seed)),
        ):
            runs.append(keys | {"arm": arm, "status": "done", "train_images": 1000})
            for it, (t, fd) in enumerate(zip(seconds, fds, strict=True)):
                logs.append(keys | {"arm": arm, "iteration": 100 * (it + 1)}
                            | {"seconds": float(t), "during_fd_domain": fd})  # fmt: skip
    return pd.DataFrame(runs), pd.DataFrame(logs)


def test_claim_7_time_reads_fd_while_training_at_the_seconds_both_reached():
    seven = replace(spec("7-time"), effect="{metric} improvement, %", note=CAVEAT)
    runs, logs = training_logs()
    (row,) = evaluate_claim(runs, seven, logs=logs)
    sagan = [46.0, 46.0, 46.0, 44.0]
    expected = [100 * (sagan[s] - (30 + 0.5 * s)) / sagan[s] for s in range(4)]
    assert row.mean == pytest.approx(np.mean(expected)) and row.verdict == INSIDE
    assert (row.n, row.pairs) == (4, 4)
    assert row.effect == "FD while training improvement, %"
    assert (
        row.note == f"{CAVEAT}; read at equal training time, median 24 s per pair"
    )  # not the mean, 24.5
    (unscored,) = evaluate_claim(runs, seven)
    assert unscored.verdict == NOT_MEASURED and unscored.effect == row.effect


def test_the_table_reads_each_claim_from_its_own_source():
    runs, logs = training_logs()
    profile = loaded_profile(STEADY_ROUNDS, load=0.5)
    table = evaluate_claims(runs, profile, [spec("3"), spec("7-time")], logs=logs)
    assert table["verdict"].tolist() == [INSIDE, INSIDE]
    assert list(evaluate_claims(runs, profile, []).columns) == list(Verdict.__dataclass_fields__)


# --- Holm's adjustment ----------------------------------------------------------------------


def holm(ps: list[float]) -> list[float]:
    """Holm's step-down adjusted p values, by hand: the k-th smallest times (m - k + 1), kept
    monotone and at most 1."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, running = [0.0] * len(ps), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - k) * ps[i]))
        out[i] = running
    return out


@settings(max_examples=12, deadline=None)
@given(st.lists(st.floats(0.0, 0.2), min_size=1, max_size=6), st.integers(0, 3))
def test_holm_adjusts_every_tested_row_and_an_adjusted_p_not_below_2_5_percent_falls(ps, kind):
    rows = [Verdict("c", "", "", (0.0, INF), p=p, verdict=INSIDE, note=CAVEAT) for p in ps]
    outside = [
        Verdict("c", "", "", (0.0, INF), level="all runs kept", p=0.001, verdict=INSIDE),
        Verdict("c", "", "", (0.0, INF), p=0.001, verdict=UNTESTABLE),
        Verdict("c", "", "", (0.0, INF), p=0.001, verdict=NOT_POOLED),
        Verdict("c", "", "", (0.0, INF), verdict=INCONCLUSIVE),  # no p
    ][kind]
    before = outside.verdict
    adjust_holm([*rows, outside])
    assert math.isnan(outside.p_holm) and outside.verdict == before
    for v, p, adjusted in zip(rows, ps, holm(ps), strict=True):
        assert v.p_holm == pytest.approx(adjusted)
        if v.p_holm < 0.025:  # the rule, on the p it printed
            assert (v.verdict, v.note) == (INSIDE, CAVEAT)
        else:
            assert v.verdict == INCONCLUSIVE
            assert v.note == (
                f"{CAVEAT}; reads {INSIDE} at p = {p:.3g}, not after Holm's adjustment over "
                f"{len(ps)} tested rows"
            )


def test_an_adjusted_p_of_exactly_2_5_percent_is_not_below_it():
    row = Verdict("c", "", "", (0.0, INF), p=0.025, verdict=LARGER, note=CAVEAT)
    adjust_holm([row])
    assert row.verdict == INCONCLUSIVE and row.note == (
        f"{CAVEAT}; reads {LARGER} at p = 0.025, not after Holm's adjustment over 1 tested rows"
    )


@pytest.mark.parametrize("names", [("a", "b"), ("b", "a")])
def test_a_pooled_row_takes_the_largest_floor_among_equal_margins_whatever_the_names(names):
    # equal 5 % margins; floors 8 % and 2 %: the pooled row is judged against the 8 % one
    noisy, quiet = names
    runs = paired({noisy: [6.0, 7.0, 8.0, 9.0], quiet: [6.5, 7.5, 8.5, 9.5]})
    *_, pooled = evaluate_claim(runs, UP, floor=floors(**{noisy: 4.0, quiet: 1.0}))
    assert pooled.level == "pooled" and pooled.floor == pytest.approx(8.0)
    assert "the real-vs-real floor (8) exceeds the margin ±5" in pooled.note
