"""Runs that learned: FD while training is on unless a study turns it off, and the declared
convergence and collapse criteria (sagan.report.run_checks) read hand-made curves and metrics
as docs/claims-and-statistics.md states them, into the summary's columns."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from sagan.metrics.during import default_during
from sagan.report.aggregate import aggregate
from sagan.report.run_checks import (
    CLASS_COVERAGE_BELOW,
    CONVERGED_TOLERANCE,
    collapse,
    convergence,
    final_gammas,
    reference_trace,
)
from sagan.run_folder import write_status
from sagan.study import Run, run_config, validate_study
from sagan.study.model import parse_study
from tests.test_workflow import TINY

# -- FD while training, on by default ---------------------------------------------------------


def test_the_default_points_are_evenly_spaced_with_one_at_two_thirds_and_one_at_the_end():
    assert default_during(400) == [67, 133, 200, 267, 333, 400]
    assert default_during(450) == [75, 150, 225, 300, 375, 450]
    assert default_during(3) == [1, 2, 3]  # shorter than the points: each iteration once


def study(**evaluation) -> dict:
    s = copy.deepcopy(TINY)
    s["variants"] = {"dcgan": {}, "long": {"variant": "dcgan", "train": {"iterations": 60}}}
    s["evaluation"] = {**s["evaluation"], **evaluation}
    return s


def test_a_study_without_during_scores_fd_at_the_default_points_of_each_runs_length():
    s = study()
    validate_study(parse_study(s))
    assert run_config(parse_study(s), Run("digits", "dcgan", 100, 0)).eval.during == default_during(
        20
    )
    assert run_config(parse_study(s), Run("digits", "long", 100, 0)).eval.during == default_during(
        60
    )


def test_an_explicit_during_is_kept_and_an_empty_one_turns_it_off():
    assert (
        run_config(parse_study(study(during=[])), Run("digits", "dcgan", 100, 0)).eval.during == []
    )
    assert run_config(
        parse_study(study(during=[5])), Run("digits", "dcgan", 100, 0)
    ).eval.during == [5]
    s = study()
    s["datasets"]["pairs"]["evaluation"] = {"during": []}  # one dataset's own switch
    assert run_config(parse_study(s), Run("pairs", "dcgan", 100, 0)).eval.during == []
    assert run_config(parse_study(s), Run("digits", "dcgan", 100, 0)).eval.during == default_during(
        20
    )


# -- convergence ------------------------------------------------------------------------------


def curve(fds: list[float], iterations: int = 600) -> list[tuple[int, float]]:
    return list(zip(default_during(iterations), fds, strict=True))


def test_a_flat_last_third_is_converged_with_the_change_it_read():
    converged, change = convergence(curve([9.0, 6.0, 4.0, 3.0, 2.9, 2.9]), 600)
    assert converged is True
    assert change == pytest.approx((2.9 - 3.0) / 3.0)  # from 400 (= 2/3 of 600) to 600


def test_fd_still_falling_over_the_last_third_is_not_converged():
    converged, change = convergence(curve([9.0, 7.0, 5.0, 4.0, 3.4, 3.0]), 600)
    assert converged is False and change == pytest.approx(-0.25)
    # rising as much is no plateau either
    assert convergence(curve([9.0, 6.0, 4.0, 3.0, 3.2, 3.6]), 600)[0] is False


def test_the_tolerance_is_the_boundary():
    edge = 3.0 * (1 - CONVERGED_TOLERANCE)
    assert convergence(curve([9, 6, 4, 3.0, 3.0, edge * 1.001]), 600)[0] is True
    assert convergence(curve([9, 6, 4, 3.0, 3.0, edge * 0.999]), 600)[0] is False


def test_the_window_starts_at_the_last_point_in_the_first_two_thirds():
    # points at 100, 300, 500, 600: 2/3 of 600 is 400, so the window starts at 300
    converged, change = convergence([(100, 9.0), (300, 4.0), (500, 3.0), (600, 3.9)], 600)
    assert change == pytest.approx(-0.025) and converged is True


@pytest.mark.parametrize(
    "points",
    [
        [],  # FD while training was off
        [(200, 5.0), (400, 4.0), (500, 4.0)],  # no point at the run's end (600)
        [(500, 4.0), (600, 4.0)],  # none in the first two thirds
        [(300, float("nan")), (600, 4.0)],
    ],
)
def test_a_curve_that_cannot_say_gives_none_and_nan(points):
    converged, change = convergence(points, 600)
    assert converged is None and math.isnan(change)


# -- collapse ---------------------------------------------------------------------------------

HEALTHY = {"fd_domain": 3.0, "recall_domain": 0.4, "class_coverage_domain": 1.0}


def test_a_healthy_run_is_not_collapsed():
    assert collapse(HEALTHY, reference_trace=20.0) == (False, "")


def test_recall_zero_is_collapse_and_the_reason_names_it_with_its_number():
    collapsed, reason = collapse({**HEALTHY, "recall_domain": 0.0}, 20.0)
    assert collapsed is True and reason == "recall_domain = 0 <= 0"
    assert collapse({**HEALTHY, "recall_domain": 0.0025}, 20.0)[0] is False  # one real in


def test_class_coverage_under_the_threshold_is_collapse():
    collapsed, reason = collapse({**HEALTHY, "class_coverage_domain": 0.22}, 20.0)
    assert collapsed is True and reason == f"class_coverage_domain = 0.22 < {CLASS_COVERAGE_BELOW}"
    assert collapse({**HEALTHY, "class_coverage_domain": CLASS_COVERAGE_BELOW}, 20.0)[0] is False


def test_fd_above_the_reference_total_variance_is_collapse_and_every_reason_is_listed():
    metrics = {**HEALTHY, "fd_domain": 25.0, "recall_domain": 0.0}
    collapsed, reason = collapse(metrics, reference_trace=20.0)
    assert collapsed is True
    assert reason.split("; ") == [
        "fd_domain = 25 > 20, the reference features' total variance",
        "recall_domain = 0 <= 0",
    ]
    # without the reference that criterion is not read; the train-side FD is never read
    assert collapse({"fd_domain": 25.0, "fd_domain_train": 99.0}, None) == (
        None,
        "no recall, class coverage or FD to read",
    )
    assert collapse({"fd_domain": 5.0, "fd_domain_train": 99.0}, 20.0) == (False, "")


def test_the_reference_total_variance_is_the_fd_of_a_point_at_the_real_mean():
    from sagan.metrics.distances import frechet_distance

    real = np.random.default_rng(0).normal(size=(400, 6)) * [1, 2, 3, 1, 1, 1]
    point = np.tile(real.mean(0), (400, 1)) + 1e-9 * np.random.default_rng(1).normal(size=(400, 6))
    assert reference_trace(real) == pytest.approx(frechet_distance(point, real), rel=1e-4)


def test_final_gammas_are_the_mean_absolute_gate_of_each_side():
    row = {"iteration": 400, "gamma:G.blocks.0": -0.02, "gamma:G.blocks.1": 0.04}
    assert final_gammas(row)["gamma_g_final"] == pytest.approx(0.03)
    assert math.isnan(final_gammas(row)["gamma_d_final"])  # D has no attention


# -- the summary ------------------------------------------------------------------------------


def fake_run(root: Path, name: str, metrics: dict, log: str, reference: str) -> Path:
    run = root / "results/runs/s/digits" / name
    run.mkdir(parents=True)
    cfg = {
        "study": "s",
        "variant": "sagan",
        "data": {"dataset": "digits", "size": "full", "resolution": 16},
        "train": {"seed": 0, "iterations": 600},
        "eval": {"reference_path": reference},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    write_status(run, "done", iterations=600)
    entries = {k: {"value": v} for k, v in metrics.items()}
    (run / "metrics.json").write_text(json.dumps({"status": "done", "metrics": entries}))
    (run / "log.csv").write_text(log)
    return run


LOG = """iteration,loss_d,gamma:G.slot8,gamma:D.slot8,during_fd_domain
100,1.0,0.0,0.0,9.0
200,1.0,0.001,0.0,
400,1.0,0.01,-0.002,{at400}
600,1.0,-0.03,0.005,{at600}
"""


def test_the_summary_carries_the_flags_their_numbers_and_the_final_gammas(tmp_path):
    reference = "results/features/digits/domain/heldout.pt"
    (tmp_path / reference).parent.mkdir(parents=True)
    features = torch.from_numpy(np.random.default_rng(0).normal(size=(300, 4)))
    torch.save({"features": features, "meta": {}}, tmp_path / reference)
    trace = reference_trace(features.numpy())
    good = fake_run(tmp_path, "good", HEALTHY, LOG.format(at400=3.0, at600=2.9), reference)
    bad = fake_run(
        tmp_path,
        "bad",
        {**HEALTHY, "fd_domain": trace + 1, "class_coverage_domain": 0.1},
        LOG.format(at400=6.0, at600=4.0),
        reference,
    )
    summary = aggregate([good, bad]).set_index("run_dir")
    good, bad = summary.loc[str(good)], summary.loc[str(bad)]
    assert good["converged"] == True and good["converged_change"] == pytest.approx(-1 / 30)  # noqa: E712
    assert bad["converged"] == False and bad["converged_change"] == pytest.approx(-1 / 3)  # noqa: E712
    assert good["collapsed"] == False and good["collapse_reason"] == ""  # noqa: E712
    assert bad["collapsed"] == True  # noqa: E712
    assert bad["collapse_reason"].startswith("class_coverage_domain = 0.1 < 0.5; fd_domain = ")
    assert good["gamma_g_final"] == pytest.approx(0.03)
    assert good["gamma_d_final"] == pytest.approx(0.005)


def test_a_run_without_during_or_metrics_says_so(tmp_path):
    run = fake_run(tmp_path, "plain", {}, "iteration,loss_d\n600,1.0\n", "")
    (run / "metrics.json").unlink()
    row = aggregate([run]).iloc[0]
    assert row["converged"] is None and math.isnan(row["converged_change"])
    assert row["collapsed"] is None and row["collapse_reason"] == "not evaluated"
    assert math.isnan(row["gamma_g_final"])


# -- the tables count them --------------------------------------------------------------------


def test_the_tables_count_collapsed_and_converged_runs_per_arm():
    import pandas as pd

    from sagan.report.paper_tables import ablation_table, small_data_table
    from sagan.report.stats import cell_stats, numeric_metrics

    summary = pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "arm": ["dcgan"] * 3 + ["sagan"] * 3,
            "size": "full",
            "train_images": 10,
            "seed": [0, 1, 2] * 2,
            "status": "done",
            "fd_domain": [1.0, 2.0, 3.0, 1.5, 2.5, 3.5],
            "collapsed": [False, False, False, True, False, True],
            "converged": [True, None, True, False, False, True],
        }
    )
    assert not {"collapsed", "converged"} & set(numeric_metrics(summary))  # counted, not averaged
    stats = cell_stats(summary, ["fd_domain"])
    table = ablation_table(summary, stats, None)
    assert table.text["collapsed"].tolist() == ["0/3", "2/3"]
    assert table.text["converged"].tolist() == ["2/2", "1/3"]
    assert "declared criterion" in table.note
    small = small_data_table(summary, stats)
    assert small.text["collapsed"].tolist() == ["0/3", "2/3"]


def test_training_curves_draw_fd_while_training_and_every_gate_beside_the_losses():
    import matplotlib.pyplot as plt
    import pandas as pd

    from sagan.report.study_figures import training_curves

    rows = []
    for variant, gates in (("dcgan", {}), ("multiscale", {"G.s4": -0.02, "G.s8": 0.01})):
        for it in range(10, 61, 10):
            fd = 5.0 / it if it % 20 == 0 else None
            rows.append(
                {"study": "s", "dataset": "digits", "arm": variant, "size": "full",
                 "seed": 0, "iteration": it, "loss_d": 1.0, "loss_g": 0.5,
                 "during_fd_domain": fd, **{f"gamma:{k}": v * it for k, v in gates.items()}}
            )  # fmt: skip
    fig = training_curves(pd.DataFrame(rows))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].endswith("while training") and "attention gate |gamma|" in titles
    gates = fig.axes[titles.index("attention gate |gamma|")]
    assert [t.get_text() for t in gates.get_legend().get_texts()] == ["G s4", "G s8"]
    # how open each gate is: G s4's gate runs to -1.2, drawn as +1.2
    assert max(max(line.get_ydata(), default=0) for line in gates.lines) == pytest.approx(1.2)
    fd = fig.axes[0].lines[0]
    assert list(fd.get_xdata()) == [20, 40, 60]  # the scored points only
    plt.close(fig)


def test_the_report_names_every_run_that_collapsed_or_did_not_converge():
    from sagan.report.learned_table import learned_table

    runs = pd.DataFrame(
        {
            "dataset": ["digits"] * 5,
            "arm": ["dcgan", "sagan", "topk", "linear", "multiscale"],
            "size": ["full"] * 5,
            "seed": [3, 3, 3, 3, 3],
            "run_dir": ["a", "b", "c", "d", "e"],
            "collapsed": [False, True, False, False, False],
            "collapse_reason": ["", "recall_domain = 0 <= 0", "", "", ""],
            "converged": [True, True, False, None, True],  # linear: FD not scored while training
            "converged_change": [-0.02, 0.01, -0.25, math.nan, -0.01],
            "recall_domain": [0.8, 0.0, 0.8, 0.8, 0.8],
            "class_coverage_domain": [1.0, 1.0, 1.0, 0.9, 0.7],  # multiscale: 7 of 10 classes
        }
    )
    table = learned_table(runs)
    listed = table.text.set_index("arm")
    # the healthy dcgan is not named; multiscale converged, but its samples miss classes
    assert list(listed.index) == ["sagan", "topk", "linear", "multiscale"]
    assert listed.loc["multiscale", "samples learned"] == "no: class_coverage_domain = 0.7"
    assert listed.loc["sagan", "samples learned"] == "no: recall_domain = 0"
    assert listed.loc["linear", "samples learned"] == "yes"  # 0.9 is enough
    assert "2 runs fail" in table.note
    assert listed.loc["sagan", "why"] == "recall_domain = 0 <= 0"
    assert listed.loc["topk", "converged"] == "no"
    assert listed.loc["topk", "FD change, last third"] == "-25.0%"
    assert listed.loc["linear", "converged"] == "unknown"
    assert "4 of 5 runs" in table.note
    assert learned_table(runs.drop(columns=["collapsed", "converged"])) is None
