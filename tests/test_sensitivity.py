"""Sensitivity tables and figures from a study's sweeps, on frames checked by hand."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from sagan.report.sensitivity import (  # noqa: E402
    sensitivity,
    sensitivity_figure,
    sensitivity_table,
    sweeps,
    value_label,
)
from sagan.report.tables import to_markdown  # noqa: E402


def run(seed, point, fd, it_per_s, *, sweep="s", dataset="a", arm=None):
    return {
        "study": "st",
        "dataset": dataset,
        "size": "full",
        "seed": seed,
        "status": "done",
        "arm": arm or f"{sweep}.{json.dumps(point)}",
        "variant": "sagan",
        "sweep": sweep,
        "sweep_point": json.dumps(point) if point else "",
        "fd_domain": fd,
        "it_per_s": it_per_s,
    }


def hand_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            run(0, {"k": 10}, 20.0, 50.0),
            run(1, {"k": 10}, 20.0, 50.0),
            run(0, {"k": 2}, 10.0, 100.0),
            run(1, {"k": 2}, 12.0, 200.0),
            run(0, {}, 99.0, 1.0, sweep="", arm="dcgan"),  # not in a sweep
            {**run(1, {"k": 2}, 500.0, 1.0), "status": "failed"},
        ]
    )


def test_the_table_values_are_the_means_and_cis_over_seeds():
    tidy = sensitivity(hand_frame()).set_index(["value", "metric"])
    assert list(dict.fromkeys(v for v, _ in tidy.index)) == ["2", "10"]  # 2 < 10 as numbers
    two = tidy.loc[("2", "fd_domain")]
    assert (two["n"], two["mean"]) == (2, 11.0)
    # the tables' t-interval of 2 seeds (10, 12): 11 +- 12.7, an FD's cut at 0
    assert (two["ci_lo"], two["ci_hi"]) == pytest.approx((0.0, 11.0 + 12.7062), abs=1e-3)
    ms = tidy.loc[("2", "ms_per_step")]
    assert ms["mean"] == pytest.approx((10.0 + 5.0) / 2)
    ten = tidy.loc[("10", "fd_domain")]
    assert (ten["mean"], ten["ci_lo"], ten["ci_hi"]) == (20.0, 20.0, 20.0)
    assert tidy.loc[("10", "ms_per_step"), "mean"] == pytest.approx(20.0)


def test_a_crossed_option_is_averaged_per_seed_before_the_ci():
    rows = [
        run(seed, {"k": k, "top": top}, fd, 100.0)
        for seed, base in ((0, 10.0), (1, 14.0))
        for k in (1, 2)
        for top, fd in ((0.5, base), (0.25, base + 2.0 * k))
    ]
    tidy = sensitivity(pd.DataFrame(rows))
    k1 = tidy[(tidy["option"] == "k") & (tidy["value"] == "1") & (tidy["metric"] == "fd_domain")]
    assert k1["n"].item() == 2  # seeds, not the 4 runs
    assert k1["mean"].item() == pytest.approx(((10 + 12) / 2 + (14 + 16) / 2) / 2)
    assert sweeps(pd.DataFrame(rows)) == [("s", "k"), ("s", "top")]
    assert (
        "pooled over the other swept option(s) top"
        in sensitivity_table(pd.DataFrame(rows), "s", "k").note
    )


def test_the_table_reads_per_dataset_in_value_order():
    table = sensitivity_table(hand_frame(), "s", "k")
    assert list(table.text.columns) == ["dataset", "k", "seeds", "fd_domain", "ms/step"]
    assert table.text["k"].tolist() == ["2", "10"]
    assert table.text.loc[0, "fd_domain"].startswith("11 ±")
    assert "**11 ±" in to_markdown(table)  # the lower FD is the better one


def test_no_sweep_gives_no_tables():
    frame = hand_frame().assign(sweep="", sweep_point="")
    assert sweeps(frame) == [] and sensitivity(frame).empty
    assert sweeps(hand_frame().drop(columns=["sweep"])) == []


def test_value_labels():
    assert [value_label(v) for v in ([4], [4, 8], 0.125, 8, "x", True)] == [
        "4",
        "4,8",
        "0.125",
        "8",
        "x",
        "true",
    ]


def test_the_figure_has_a_panel_per_dataset_and_metric_with_the_values_as_labels():
    frame = pd.concat([hand_frame(), hand_frame().assign(dataset="b")], ignore_index=True)
    fig = sensitivity_figure(frame, "s", "k")
    axes = fig.axes
    assert len(axes) == 4
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["2", "10"]
    assert axes[0].get_title() == "a" and axes[2].get_title() == "b"
    assert "FD" in axes[0].get_ylabel() and "ms" in axes[1].get_ylabel()
    plt.close(fig)


def test_every_sweep_goes_into_one_figure_and_one_table_file(tmp_path):
    from sagan.report.sensitivity import sweeps_figure, write_sensitivity_tables

    two = pd.concat(
        [hand_frame(), pd.DataFrame([run(0, {"gamma": 1}, 5.0, 9.0, sweep="t")])],
        ignore_index=True,
    )
    fig = sweeps_figure(two)
    assert len(fig.subfigs) == 2  # a block per (sweep, option)
    assert [f._suptitle.get_text().split(":")[0] for f in fig.subfigs] == ["Sweep s", "Sweep t"]
    plt.close(fig)
    paths = write_sensitivity_tables(two, tmp_path / "sensitivity")
    md = (tmp_path / "sensitivity.md").read_text()
    assert [p.name for p in paths] == ["sensitivity.md", "sensitivity.tex"]
    assert "Sensitivity to k (sweep s)" in md and "Sensitivity to gamma (sweep t)" in md
    assert (tmp_path / "sensitivity.tex").read_text().count("\\begin{table}") == 2


def test_a_study_with_no_sweep_gets_no_sensitivity_file():
    from sagan.report.sensitivity import sweeps_figure, write_sensitivity_tables

    no_sweep = hand_frame().assign(sweep="", sweep_point="")
    assert sweeps_figure(no_sweep) is None
    assert write_sensitivity_tables(no_sweep, "/nonexistent/sensitivity") == []
