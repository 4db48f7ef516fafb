"""Claims as data: a study's claims: mapping, claim 2 from a placement sweep, claim 3 from
concatenated cost profiles."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from sagan.cost.timing import MIN_ROUNDS
from sagan.errors import ConfigError
from sagan.report.claim_specs import claims_from_study, claims_to_dict, load_claims
from sagan.report.claims import evaluate_claim, evaluate_claims, measured_verdict
from sagan.report.verdict_rules import INSIDE, NOT_DECIDED, OPPOSITE, SMALLER_SAME
from tests.design_claims import (
    DESIGN,
    design_claims,
    mid_placement_verdicts,
    spec,
    time_overhead_verdicts,
)

CLAIM_2 = "2: attention works best at mid-level feature maps"


def test_no_claims_mapping_gives_the_defaults():
    assert claims_from_study({}, DESIGN) == DESIGN
    assert claims_from_study(None, DESIGN) == DESIGN


def test_the_design_claims_round_trip_through_the_file_the_workflow_writes(tmp_path):
    import yaml

    assert len(DESIGN) >= 10 and {"1", "2", "3", "4", "6"} <= {c.id for c in DESIGN}
    (tmp_path / "claims.yaml").write_text(yaml.safe_dump(claims_to_dict(DESIGN), sort_keys=False))
    assert load_claims(tmp_path / "claims.yaml") == DESIGN


def test_an_existing_id_overrides_only_the_given_fields():
    specs = {c.id: c for c in claims_from_study({"1": {"claimed": [5, ".inf"]}}, DESIGN)}
    one = specs["1"]
    assert one.claimed == (5.0, math.inf)
    default = next(c for c in DESIGN if c.id == "1")
    assert (one.arm, one.baseline, one.title) == (default.arm, default.baseline, default.title)
    assert [c.id for c in specs.values()] == [c.id for c in DESIGN]


def test_a_new_id_adds_a_claim_measured_like_the_others():
    study = {
        "claims": {
            "wide": {
                "title": "wider attention helps",
                "arm": "sagan-wide",
                "baseline": "sagan",
                "claimed": [0, float("inf")],
                "datasets": ["a"],
            }
        }
    }
    specs = claims_from_study(study["claims"], DESIGN)
    assert specs[-1].id == "wide" and specs[-1].datasets == ("a",)
    rows = []
    for dataset in ("a", "b"):
        for seed in range(6):
            for arm, fd in (("sagan", 100.0), ("sagan-wide", 90.0 - seed * 0.1)):
                rows.append(
                    {"study": "s", "dataset": dataset, "size": "full", "seed": seed}
                    | {"arm": arm, "status": "done", "fd_domain": fd}
                )
    table = evaluate_claims(pd.DataFrame(rows), None, specs).set_index("claim")
    row = table.loc["wide: wider attention helps"]
    assert row["verdict"] == INSIDE and row["n"] == 6  # dataset b left out
    assert row["comparison"] == "sagan-wide vs sagan, paired"


def test_an_unknown_field_names_itself_and_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"'clamed'.*allowed: .*claimed"):
        claims_from_study({"1": {"clamed": [1, 2]}}, DESIGN)


def paired_rows(metric: str, arm_value: float, base_value: float) -> pd.DataFrame:
    """Six seed pairs of arm "a" against baseline "b" on ``metric``."""
    return pd.DataFrame(
        [
            {"study": "s", "dataset": "d", "size": "full", "seed": seed, "status": "done"}
            | {"arm": v, metric: value + (0.01 * seed if v == "a" else 0.0)}
            for seed in range(6)
            for v, value in (("a", arm_value), ("b", base_value))
        ]
    )


@pytest.mark.parametrize(
    ("metric", "arm", "base", "sign"),
    [("fd_domain", 1.0, 2.0, 1), ("precision_domain", 0.9, 0.5, 1), ("kid_domain", 3.0, 1.0, -1)],
)
def test_an_effect_is_oriented_by_the_metrics_declared_direction(metric, arm, base, sign):
    fields = {"arm": "a", "baseline": "b", "claimed": [0, ".inf"], "metric": metric}
    new = claims_from_study({"x": fields | {"relative": False}}, [])[0]
    assert np.sign(evaluate_claim(paired_rows(metric, arm, base), new)[0].mean) == sign
    raw = claims_from_study({"x": fields | {"raw_difference": True}}, [])[0]
    assert np.sign(evaluate_claim(paired_rows(metric, arm, base), raw)[0].mean) == np.sign(
        arm - base
    )


def test_a_metric_without_a_direction_needs_raw_difference_and_the_old_flag_is_refused():
    fields = {"arm": "a", "baseline": "b", "claimed": [0, ".inf"], "relative": False}
    z = "memo_domain_mann_whitney_z"
    none = claims_from_study({"x": fields | {"metric": z}}, [])[0]
    with pytest.raises(ConfigError, match=f"'{z}' declares no better direction.*raw_difference"):
        evaluate_claim(paired_rows(z, 1.0, 2.0), none)
    raw = claims_from_study({"x": fields | {"metric": z, "raw_difference": True}}, [])
    assert evaluate_claim(paired_rows(z, 1.0, 2.0), raw[0])[0].mean < 0  # arm - baseline
    with pytest.raises(ConfigError, match="lower_is_better is gone: the metric's declared"):
        claims_from_study({"1": {"lower_is_better": False}}, DESIGN)


def test_a_new_claim_without_arms_is_an_error():
    with pytest.raises(ConfigError, match="needs arm, baseline"):
        claims_from_study({"new": {"claimed": [0, 1]}}, DESIGN)


def test_a_bad_claimed_range_is_an_error():
    with pytest.raises(ConfigError, match="claimed"):
        claims_from_study({"1": {"claimed": "big"}}, DESIGN)


def placement_sweep(gains: dict[int, float], *, seeds: int = 6, sweep: str = "sagan-place"):
    """dcgan at FD 100 and one sagan arm per G side at gains[side] % better, per seed."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(seeds):
        base = 100 + rng.normal()
        common = {"study": "s", "dataset": "a", "size": "full", "seed": seed, "status": "done"}
        common |= {"resolution": 32, "train_images": 1000, "iterations": 100}
        rows.append(
            common
            | {"arm": "dcgan", "variant": "dcgan", "sweep": "", "sweep_point": ""}
            | {"g_attention": "", "fd_domain": base}
        )
        for side, gain in gains.items():
            rows.append(
                common
                | {"arm": f"{sweep}.g{side}", "variant": "sagan", "sweep": sweep}
                | {"sweep_point": json.dumps({"g_resolutions": [side]}), "g_attention": str(side)}
                | {"fd_domain": base * (1 - (gain + 0.5 * rng.normal()) / 100)}
            )
    return pd.DataFrame(rows)


def test_a_clearly_better_mid_placement_supports_claim_2():
    (c,) = mid_placement_verdicts(placement_sweep({4: 5.0, 8: 20.0, 16: 7.0}))
    assert c.verdict == INSIDE and c.n == 6 and c.seeds == 6
    assert c.mean == pytest.approx(13.0, abs=1.0)
    assert "sagan-place" in c.comparison and "G sides [4, 8, 16]" in c.scale


def test_a_worse_mid_placement_does_not_support_claim_2():
    (c,) = mid_placement_verdicts(placement_sweep({4: 5.0, 8: -10.0, 16: 7.0}))
    assert c.verdict == OPPOSITE and c.mean < 0


def test_claim_2_reads_empty_csv_cells_as_no_sweep():
    runs = placement_sweep({4: 5.0, 8: 20.0, 16: 7.0})
    runs.loc[runs["arm"] == "dcgan", ["sweep", "sweep_point", "g_attention"]] = np.nan
    assert mid_placement_verdicts(runs)[0].verdict == INSIDE


def test_without_a_placement_sweep_claim_2_is_not_measured_and_says_how():
    runs = placement_sweep({4: 5.0, 8: 20.0, 16: 7.0})
    for frame in (runs.drop(columns=["sweep"]), runs.assign(sweep="")):
        (c,) = mid_placement_verdicts(frame)
        assert c.verdict == "not measured in this study" and "placement sweep" in c.needs
    two = placement_sweep({4: 5.0, 8: 20.0})  # two sides cannot tell mid from end
    assert mid_placement_verdicts(two)[0].verdict == "not measured in this study"
    table = design_claims(runs.drop(columns=["sweep"])).set_index("claim")
    assert table.loc[CLAIM_2, "verdict"] == "not measured in this study"


def profile_row(
    dataset, arm, baseline, ms, base_ms, precision="fp32", rounds=None, load=0.5, **more
):
    """A profile row; ``rounds``: its ms/step in each interleaved round (default MIN_ROUNDS x
    ``ms``)."""
    rounds = rounds or [ms] * MIN_ROUNDS
    return more | {
        "dataset": dataset,
        "arm": arm,
        "label": arm,
        "precision": precision,
        "device": "cpu",
        "resolution": 32,
        "ms_per_step": ms,
        "ms_repeats": " ".join(f"{t:.3f}" for t in rounds),
        "ratio_to_baseline": ms / base_ms,
        "baseline": baseline,
        "load_before": load,
        "load_after": load,
        "cores": 2,
        "loaded": load > 2,
    }


def time_overhead_verdict(*datasets, base=(10.0,) * MIN_ROUNDS, load=0.5, **more):
    """Claim 3 (sagan over dcgan, claimed 30-50%) on one profile per dataset: sagan's ms/step
    in each round, the baseline's in ``base``."""
    rows = []
    for i, rounds in enumerate(datasets):
        rows.append(
            profile_row(f"d{i}", "dcgan", "dcgan", 10.0, 10.0, rounds=list(base), load=load, **more)
        )
        rows.append(
            profile_row(f"d{i}", "sagan", "dcgan", 14.0, 10.0, rounds=rounds, load=load, **more)
        )
    no_runs = pd.DataFrame(columns=["arm", "status"])
    return time_overhead_verdicts(no_runs, pd.DataFrame(rows))[0]


# 9 rounds each: the interval is the 2nd smallest and 2nd largest round
NOISY = [12.0, 14.0, 16.0, 13.0, 15.0, 12.5, 15.5, 13.5, 14.5]  # +25 .. +55%: straddles 30-50
STEADY = [13.5, 14.0, 14.5, 13.8, 14.2, 13.6, 14.4, 13.9, 14.1]  # +36 .. +44%
CHEAP = [10.5, 11.0, 11.5, 10.8, 11.2, 10.6, 11.4, 10.9, 11.1]  # +6 .. +14%


def alternate(fast: float, slow: float) -> list[float]:
    """MIN_ROUNDS rounds, every other one slow (the machine busy for both arms alike)."""
    return [slow if i % 2 else fast for i in range(MIN_ROUNDS)]


def test_a_profile_claim_is_decided_only_by_its_interval_over_the_repeats():
    noisy = time_overhead_verdict(NOISY)
    assert noisy.verdict == "inconclusive" and noisy.mean == pytest.approx(40.0)
    assert (noisy.ci_lo, noisy.ci_hi) == pytest.approx((25.0, 55.0))
    assert "9 interleaved repeats" in noisy.test
    steady = time_overhead_verdict(STEADY)
    assert steady.verdict == INSIDE and (steady.ci_lo, steady.ci_hi) == pytest.approx((36, 44))
    assert time_overhead_verdict(CHEAP).verdict == SMALLER_SAME


def test_a_profile_claims_ratio_is_taken_round_by_round():
    # the machine is twice as slow in rounds 2 and 4, for both arms alike: +40% in every round
    c = time_overhead_verdict(alternate(14.0, 28.0), base=alternate(10.0, 20.0))
    assert c.verdict == INSIDE and (c.ci_lo, c.ci_hi) == pytest.approx((40.0, 40.0))


def test_a_profile_claim_holds_only_where_every_dataset_decides_alike():
    assert time_overhead_verdict(STEADY, STEADY).verdict == INSIDE
    assert time_overhead_verdict(STEADY, NOISY).verdict == "inconclusive"
    assert time_overhead_verdict(STEADY, CHEAP).verdict == "inconclusive"
    assert time_overhead_verdict(CHEAP, CHEAP).verdict == SMALLER_SAME


FASTER = [3.0, 3.1, 2.9, 3.0, 3.2, 2.8, 3.0, 3.1, 2.9]  # -70%: opposite to the claimed 30-50%


@pytest.mark.parametrize("rounds", [1, 2, MIN_ROUNDS - 1])
def test_too_few_rounds_decide_no_cost_row_whatever_the_ratio_says(rounds):
    assert time_overhead_verdict(FASTER).verdict == OPPOSITE  # with enough rounds
    for sagan in (FASTER, STEADY, CHEAP, NOISY):
        c = time_overhead_verdict(sagan[:rounds], base=(10.0,) * rounds)
        assert c.verdict == NOT_DECIDED and f"not decided: {rounds} rounds" in c.note
        assert "decides even so" not in time_overhead_verdict(sagan[:rounds], load=3.5).note
    few = [10.0] * rounds
    profile = pd.DataFrame(
        [
            profile_row("a", arm, "dcgan", ms, 10.0, rounds=[ms] * rounds)
            for arm, ms in (("dcgan", 10.0), ("sagan", 3.0), ("topk", 20.0), ("linear", 5.0))
        ]
        + [profile_row("b", "dcgan", "dcgan", 10.0, 10.0, rounds=few)]
    )
    cost = [c for c in DESIGN if c.kind in ("profile_overhead", "profile_saving")]
    no_runs = pd.DataFrame(columns=["arm", "status"])
    rows = [row for c in cost for row in evaluate_claim(no_runs, c, profile)]
    assert len(rows) == len(cost) >= 3 and {r.verdict for r in rows} == {NOT_DECIDED}


def test_one_dataset_with_too_few_rounds_leaves_the_row_not_decided():
    effects = {"a": [40.0] * MIN_ROUNDS, "b": [40.0] * (MIN_ROUNDS - 1)}
    assert measured_verdict(effects, (30.0, 50.0))["verdict"] == NOT_DECIDED
    effects["b"] = [0.0] * MIN_ROUNDS  # both decide, differently
    assert measured_verdict(effects, (30.0, 50.0))["verdict"] == "inconclusive"


def test_a_loaded_machine_is_named_in_the_note():
    noisy = time_overhead_verdict(NOISY, load=3.5)
    assert noisy.verdict == "inconclusive" and "loaded while profiling d0" in noisy.note
    assert "on 2 cores" in noisy.note
    steady = time_overhead_verdict(STEADY, load=3.5)
    assert steady.verdict == INSIDE and "decides even so" in steady.note
    assert "loaded" not in time_overhead_verdict(STEADY).note


def test_a_loaded_machine_is_named_by_the_cores_other_work_took():
    noisy = time_overhead_verdict(NOISY, load=3.5, other_cores=0.8)
    assert "loaded while profiling d0 (other processes kept 0.8 of 2 cores busy)" in noisy.note


def test_a_profile_without_its_repeats_is_read_but_decides_nothing():
    old = pd.DataFrame(
        [
            profile_row("a", "dcgan", "dcgan", 10.0, 10.0),
            profile_row("a", "sagan", "dcgan", 14.0, 10.0),
        ]
    ).drop(columns=["ms_repeats", "load_before", "load_after", "cores", "loaded"])
    c = time_overhead_verdicts(pd.DataFrame(columns=["arm", "status"]), old)[0]
    assert c.verdict == "inconclusive" and "older profile" in c.note


def test_the_saving_claim_divides_by_its_own_baseline_round_by_round():
    """5a-cost: topk against sagan, in a profile whose baseline row is dcgan."""
    rows = [
        profile_row("a", "dcgan", "dcgan", 10.0, 10.0, rounds=alternate(10.0, 20.0)),
        profile_row("a", "sagan", "dcgan", 20.0, 10.0, rounds=alternate(20.0, 40.0)),
        profile_row("a", "topk", "dcgan", 15.0, 10.0, rounds=alternate(15.0, 30.0)),
    ]
    (c,) = evaluate_claim(
        pd.DataFrame(columns=["arm", "status"]), spec("5a-cost"), pd.DataFrame(rows)
    )
    assert c.verdict == INSIDE and (c.ci_lo, c.ci_hi) == pytest.approx((25.0, 25.0))


def test_claim_3_reads_image_profiles_beside_a_video_profile():
    """The default study's profiles: image datasets (baseline dcgan) concatenated with a
    video one (baseline video_baseline, first in the file order, in bf16 first)."""
    profile = pd.DataFrame(
        [
            profile_row("clips", "video_baseline", "video_baseline", 20.0, 20.0, "bf16"),
            profile_row("clips", "video3d", "video_baseline", 30.0, 20.0, "bf16"),
            profile_row("clips", "video_baseline", "video_baseline", 40.0, 40.0),
            profile_row("clips", "video3d", "video_baseline", 60.0, 40.0),
            profile_row("a", "dcgan", "dcgan", 10.0, 10.0),
            profile_row("a", "sagan", "dcgan", 12.95, 10.0),
            profile_row("b", "dcgan", "dcgan", 10.0, 10.0),
            profile_row("b", "sagan", "dcgan", 14.0, 10.0),
        ]
    )
    summary = pd.DataFrame(columns=["study", "dataset", "size", "seed", "arm", "status"])
    side_by_side = time_overhead_verdicts(summary, profile)[0]
    assert side_by_side.verdict != "not measured in this study"
    assert side_by_side.n == 2 and side_by_side.mean == pytest.approx((29.5 + 40) / 2)
    assert (side_by_side.ci_lo, side_by_side.ci_hi) == pytest.approx((29.5, 40.0))
    assert side_by_side.scale.startswith("a, b; 32 px; fp32")


def test_claim_3_prefers_fp32_per_dataset():
    profile = pd.DataFrame(
        [
            profile_row("a", "dcgan", "dcgan", 10.0, 10.0, "bf16"),
            profile_row("a", "sagan", "dcgan", 20.0, 10.0, "bf16"),
            profile_row("a", "dcgan", "dcgan", 10.0, 10.0),
            profile_row("a", "sagan", "dcgan", 14.0, 10.0),
        ]
    )
    c = time_overhead_verdicts(pd.DataFrame(columns=["arm", "status"]), profile)[0]
    assert c.mean == pytest.approx(40.0) and c.verdict == INSIDE


def test_every_design_claim_states_one_margin_that_a_study_can_change():
    assert all((c.sesoi is None) != (c.sesoi_floors is None) for c in DESIGN)
    one = claims_from_study({"1": {"sesoi": "2.5"}}, DESIGN)[0]
    assert one.sesoi == 2.5 and claims_to_dict([one])["1"]["sesoi"] == 2.5
    four = claims_from_study({"4": {"sesoi_floors": 3}}, DESIGN)
    assert next(c for c in four if c.id == "4").sesoi_floors == 3.0


def test_a_bare_fd_margin_is_refused_and_names_the_two_ways_to_state_one():
    with pytest.raises(ConfigError, match="sesoi_floors: k.*relative: true"):
        claims_from_study({"4": {"sesoi": 1.0}}, DESIGN)
    # a relative FD effect states its margin as a % of the baseline
    assert claims_from_study({"1": {"sesoi": 3}}, DESIGN)[0].sesoi == 3.0
    with pytest.raises(ConfigError, match="sesoi_floors must be"):
        claims_from_study({"4": {"sesoi_floors": 0.5}}, DESIGN)


@pytest.mark.parametrize("bad", [0, -1, ".inf", "big", True])
def test_a_sesoi_that_is_not_a_positive_number_is_an_error(bad):
    with pytest.raises(ConfigError, match="sesoi"):
        claims_from_study({"1": {"sesoi": bad}}, DESIGN)


def test_a_claimed_range_open_at_both_ends_is_an_error():
    with pytest.raises(ConfigError, match="claims nothing"):
        claims_from_study({"1": {"claimed": ["-.inf", ".inf"]}}, DESIGN)
