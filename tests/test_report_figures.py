"""Study figures from hand-made tables: Pareto front, training curves, probe coherence."""

import numpy as np
import pandas as pd

from sagan.report.study_figures import pareto_front, probe_coherence, training_curves


def test_pareto_front_keeps_points_no_other_beats_in_both():
    cost = np.array([1.0, 2.0, 3.0, 4.0])
    fd = np.array([10.0, 12.0, 5.0, 6.0])  # (2, 12) is beaten by (1, 10); (4, 6) by (3, 5)
    assert pareto_front(cost, fd).tolist() == [0, 2]


def test_training_curves_draw_a_panel_per_logged_signal_and_dataset():
    rows = [
        {"dataset": d, "variant": v, "size": s, "seed": seed, "iteration": it, "r_t": 0.1 * it}
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
    summary = pd.DataFrame({"variant": ["a"], "size": ["100"], "status": ["done"]})
    assert probe_coherence(summary) is None
    summary = summary.assign(pairs_agreement=[0.5], pairs_agreement_chance=[1 / 9])
    fig = probe_coherence(summary)
    assert any(line.get_linestyle() == ":" for line in fig.axes[0].lines)  # the chance line
