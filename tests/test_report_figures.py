"""Study figures from hand-made tables: Pareto front, training curves, probe coherence."""

import numpy as np
import pandas as pd
import pytest

from sagan.report.study_figures import pareto_front, probe_coherence, training_curves


def test_pareto_front_keeps_points_no_other_beats_in_both():
    cost = np.array([1.0, 2.0, 3.0, 4.0])
    fd = np.array([10.0, 12.0, 5.0, 6.0])  # (2, 12) is beaten by (1, 10); (4, 6) by (3, 5)
    assert pareto_front(cost, fd).tolist() == [0, 2]


def test_training_curves_draw_a_panel_per_logged_signal_and_dataset():
    rows = [
        {"dataset": d, "arm": v, "size": s, "seed": seed, "iteration": it, "r_t": 0.1 * it}
        for d in ("a", "b")
        for v in ("dcgan", "sagan")
        for s in ("100", "full")
        for seed in (0, 1)
        for it in (10, 20)
    ]
    fig = training_curves(pd.DataFrame(rows))
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == 2  # only r_t was logged: one panel per dataset, no empty ones
    assert [ax.get_ylabel() for ax in drawn] == ["a, n=full", "b, n=full"]


def test_probe_coherence_needs_probe_runs():
    summary = pd.DataFrame({"arm": ["a"], "size": ["100"], "status": ["done"]})
    assert probe_coherence(summary) is None
    summary = summary.assign(pairs_agreement=[0.5], pairs_agreement_chance=[1 / 9])
    fig = probe_coherence(summary)
    assert any(line.get_linestyle() == ":" for line in fig.axes[0].lines)  # the chance line


def test_probe_coherence_marks_each_runs_own_baseline_and_draws_the_excess_beside_real():
    summary = pd.DataFrame(
        {"arm": ["a", "b"], "size": ["full"] * 2, "status": ["done"] * 2, "seed": [0, 0]}
        | {"pairs_agreement": [0.5, 0.8], "pairs_independence_baseline": [0.53, 0.3]}
        | {"pairs_excess_agreement": [-0.03, 0.5], "pairs_excess_agreement_real_heldout": 0.89}
        | {"pairs_mutual_information": [0.0, 1.0], "pairs_mutual_information_real_heldout": 3.1}
    )
    fig = probe_coherence(summary)
    agreement, excess, mi = fig.axes[:3]
    marks = np.concatenate([c.get_offsets()[:, 1] for c in agreement.collections])
    assert {0.53, 0.3} <= set(np.round(marks, 2).tolist())  # each run's own baseline
    assert "own baseline" in [t.get_text() for t in fig.axes[-1].get_legend().texts]
    for ax, real in ((excess, 0.89), (mi, 3.1)):
        lines = {
            line.get_label(): line.get_ydata()[0] for line in ax.lines if len(line.get_ydata())
        }
        assert lines["real held-out"] == pytest.approx(real)
