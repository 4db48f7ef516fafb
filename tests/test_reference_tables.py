"""The results tables against answers worked out by hand on small hand-built inputs: which
cell is bold (by the metric's direction, within its group, ties, NaN), which rows a table
keeps and how it keys them, the printed numbers (mean ± half the CI, n, counts, cost and
its overhead) and the exact Markdown and LaTeX. A table that bolds the worst arm, averages
across sizes or flips an overhead's sign still renders, so only a reference catches it."""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagan.report.paper_tables import (
    FLAG_NOTE,
    OVERHEAD_NOTE,
    ablation_table,
    cost_rows,
    floor_note,
    headline,
    label,
    largest_size,
    scaling_table,
    small_data_table,
    video_rows,
    video_table,
)
from sagan.report.tables import (
    Table,
    bold_mask,
    direction,
    fmt,
    fmt_ci,
    to_latex,
    to_markdown,
    write_note,
    write_table,
)

NAN = math.nan


def one_column(values: list[float], how: str | None, groups: list[str] | None = None) -> Table:
    """A table of one metric column 'm' (and a 'g' group column when ``groups`` is given)."""
    keys = {"g": groups} if groups else {}
    text = pd.DataFrame({**keys, "row": [f"r{i}" for i in range(len(values))]})
    text["m"] = [str(v) for v in values]
    values_ = text.assign(m=values)
    best = {"m": how} if how else {}
    return Table("t", text, values_, [*keys, "row"], best, ["g"] if groups else [])


def bold(values: list[float], how: str | None, groups: list[str] | None = None) -> list[bool]:
    return bold_mask(one_column(values, how, groups))["m"].tolist()


# -- direction and bold ---------------------------------------------------------------------


def test_direction_follows_the_declared_better_and_is_none_where_undeclared():
    assert direction("fd_domain") == direction("fvd") == direction("memo_domain_near_copy_fraction")
    assert direction("fd_domain") == "min"
    assert direction("recall_domain") == direction("density_domain") == "max"
    assert direction("coverage_domain") == direction("class_coverage_domain") == "max"
    # declared with no better side, and not declared at all: nothing to bold
    assert direction("memo_domain_median_ratio") is None
    assert direction("kid_domain_std") is None
    assert direction("not_a_metric") is None


def test_lower_is_better_bolds_the_smallest_and_higher_the_largest():
    values = [3.0, 1.0, 2.0, 5.0]
    assert bold(values, "min") == [False, True, False, False]
    assert bold(values, "max") == [False, False, False, True]
    assert bold(values, None) == [False] * 4  # a column with no direction is never bold


def test_two_distinct_values_are_enough_to_bold_one():
    assert bold([2.0, 1.0], "min") == [False, True]
    assert bold([2.0, 1.0], "max") == [True, False]


def test_a_column_of_equal_values_or_of_one_value_bolds_nothing():
    assert bold([4.0, 4.0, 4.0], "min") == [False, False, False]
    assert bold([4.0, NAN, NAN], "min") == [False, False, False]
    assert bold([NAN, NAN], "max") == [False, False]


def test_nan_is_never_best_and_never_bold():
    assert bold([NAN, 2.0, 1.0], "min") == [False, False, True]
    assert bold([NAN, 2.0, 1.0], "max") == [False, True, False]
    # a cell that is no number ('–', a count) reads as missing, not as a value
    t = one_column([1.0, 2.0, 3.0], "min")
    t.values["m"] = ["–", "2", 3.0]
    assert bold_mask(t)["m"].tolist() == [False, True, False]


def test_ties_are_all_bold_and_a_near_tie_only_within_float_noise():
    assert bold([1.0, 2.0, 1.0], "min") == [True, False, True]
    assert bold([1.0, 1.0 + 1e-12, 2.0], "min") == [True, True, False]  # one number, rounded
    assert bold([1.0, 1.001, 2.0], "min") == [True, False, False]  # two numbers
    # no absolute tolerance: small metrics (a KID of 1e-4) still have one best
    assert bold([1e-4, 3e-4, 2e-4], "min") == [True, False, False]
    assert bold([0.1, 0.5, 0.3], "max") == [False, True, False]
    # two FDs of 1834 apart by 0.01 (5e-6 relative) are two results, not one
    assert bold([1834.0, 1834.01], "min") == [True, False]
    assert bold([2e-9, 5e-9], "max") == [False, True]  # nor is a tiny metric rounded to 0


def test_bold_is_chosen_within_each_group_by_the_groups_labels():
    groups = ["d", "d", "e", "e", "e"]
    values = [1.0, 2.0, 9.0, 7.0, 8.0]  # e's best (7) is worse than d's worst (2)
    assert bold(values, "min", groups) == [True, False, False, True, False]
    assert bold(values, "max", groups) == [False, True, True, False, False]
    # a group of one row has nothing to compare with
    assert bold([1.0, 2.0, 5.0], "min", ["d", "d", "e"]) == [True, False, False]


def test_bold_reads_each_columns_own_direction_and_never_a_key():
    text = pd.DataFrame({"row": ["a", "b", "c"], "FD": ["", "", ""], "recall": ["", "", ""]})
    values = pd.DataFrame({"row": [3.0, 1.0, 2.0], "FD": [2.0, 1.0, 3.0], "recall": [2.0, 1, 3]})
    t = Table("t", text, values, ["row"], {"FD": "min", "recall": "max"})
    mask = bold_mask(t)
    assert mask["FD"].tolist() == [False, True, False]
    assert mask["recall"].tolist() == [False, False, True]
    assert not mask["row"].any()


small_ints = st.integers(min_value=-5, max_value=5).map(float)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(small_ints, min_size=1, max_size=8), how=st.sampled_from(["min", "max"]))
def test_bold_marks_exactly_the_rows_holding_the_best_value(values, how):
    best = min(values) if how == "min" else max(values)
    expected = [v == best and len(set(values)) > 1 for v in values]
    assert bold(values, how) == expected


@settings(max_examples=60, deadline=None)
@given(values=st.lists(small_ints, min_size=1, max_size=8), how=st.sampled_from(["min", "max"]))
def test_negating_a_metric_and_flipping_its_direction_bolds_the_same_rows(values, how):
    flipped = {"min": "max", "max": "min"}[how]
    assert bold(values, how) == bold([-v for v in values], flipped)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_permuting_the_rows_moves_the_bold_with_them(data):
    values = data.draw(st.lists(small_ints, min_size=2, max_size=8))
    groups = data.draw(st.lists(st.sampled_from("xy"), min_size=len(values), max_size=len(values)))
    how = data.draw(st.sampled_from(["min", "max"]))
    order = data.draw(st.permutations(range(len(values))))
    t = one_column(values, how, groups)
    shuffled = Table("t", t.text.iloc[order], t.values.iloc[order], t.keys, t.best, t.group)
    assert bold_mask(shuffled).sort_index().equals(bold_mask(t))
    # and each group's bold is what that group alone would get
    for g in set(groups):
        rows = [i for i, x in enumerate(groups) if x == g]
        alone = bold([values[i] for i in rows], how)
        assert [bold_mask(t)["m"][i] for i in rows] == alone


# -- numbers ------------------------------------------------------------------------------


def test_fmt_gives_three_significant_digits_and_whole_numbers_from_a_thousand():
    assert fmt(0.012345) == "0.0123"
    assert fmt(12.345) == "12.3"
    assert fmt(-0.5) == "-0.5"
    assert fmt(999.0) == "999"
    assert fmt(1000.0) == "1000"  # not 1e+03
    assert fmt(1834.4) == "1834" and fmt(-1834.6) == "-1835"
    assert fmt(12.345, 2) == "12" and fmt(123.4, 2) == "123" and fmt(99.4, 2) == "99"
    assert fmt(NAN) == fmt(None) == "–"
    assert fmt(3) == "3"  # an int is a number, not a missing value


def test_fmt_ci_is_the_mean_and_half_the_interval_to_two_digits():
    assert fmt_ci(10.0, 9.0, 12.0, 3) == "10 ± 1.5"
    assert fmt_ci(1834.2, 1800.0, 1870.0, 5) == "1834 ± 35"
    assert fmt_ci(0.0123, 0.01, 0.015, 4) == "0.0123 ± 0.0025"
    assert fmt_ci(5.0, 4.0, 4.0 + 2 * 0.01234, 4) == "5 ± 0.012"
    assert fmt_ci(100.0, 0.0, 250.0, 4) == "100 ± 125"  # a cut interval: half its width
    assert fmt_ci(12.345, 12.0, 12.5, 3) == "12.3 ± 0.25"  # three digits by default
    assert fmt_ci(12.345, 12.0, 13.0, 3, digits=4) == "12.35 ± 0.5"  # the mean's digits only


def test_fmt_ci_without_an_interval_says_how_many_seeds():
    assert fmt_ci(10.0, NAN, NAN, 1) == "10 (n=1)"
    assert fmt_ci(10.0, NAN, 12.0, 2) == "10 (n=2)"  # either end missing: no interval
    assert fmt_ci(10.0, 9.0, NAN, 2) == "10 (n=2)"
    assert fmt_ci(12.345, NAN, NAN, 1, digits=2) == "12 (n=1)"
    assert fmt_ci(NAN, NAN, NAN, 0) == fmt_ci(None, 1.0, 2.0, 3) == "–"


# -- rendering ----------------------------------------------------------------------------


def grouped() -> Table:
    text = pd.DataFrame(
        {
            "dataset": ["d", "d", "e", "e"],
            "arm": ["a", "b", "a", "b"],
            "FD": ["1 ± 0.5", "2", "–", "4"],
            "recall": ["0.2", "0.9", "0.7", "0.3"],
            "seeds": ["3", "1", "0", "2"],
        }
    )
    values = text.assign(FD=[1.0, 2.0, NAN, 4.0], recall=[0.2, 0.9, 0.7, 0.3])
    values["seeds"] = NAN
    best = {"FD": "min", "recall": "max"}
    keys = ["dataset", "arm"]
    return Table("Cap_1 & 50%", text, values, keys, best, ["dataset"], "n_1 # note")


def test_markdown_is_caption_arrowed_header_and_bold_cells():
    assert to_markdown(grouped()) == (
        "**Cap_1 & 50%**\n"
        "\n"
        "| dataset | arm | FD ↓ | recall ↑ | seeds |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| d | a | **1 ± 0.5** | 0.2 | 3 |\n"
        "| d | b | 2 | **0.9** | 1 |\n"
        "| e | a | – | **0.7** | 0 |\n"
        "| e | b | 4 | 0.3 | 2 |\n"
        "\n"
        "n_1 # note\n"
    )


def test_latex_escapes_aligns_keys_left_and_rules_between_groups():
    assert to_latex(grouped()) == (
        "% generated by `sagan report`; needs \\usepackage{booktabs}\n"
        "\\begin{table}[t]\n"
        "\\centering\\small\n"
        "\\caption{Cap\\_1 \\& 50\\%}\n"
        "\\begin{tabular}{llrrr}\n"
        "\\toprule\n"
        "dataset & arm & FD $\\downarrow$ & recall $\\uparrow$ & seeds \\\\\n"
        "\\midrule\n"
        "d & a & \\textbf{1 $\\pm$ 0.5} & 0.2 & 3 \\\\\n"
        "d & b & 2 & \\textbf{0.9} & 1 \\\\\n"
        "\\midrule\n"
        "e & a & -- & \\textbf{0.7} & 0 \\\\\n"
        "e & b & 4 & 0.3 & 2 \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\par\\footnotesize n\\_1 \\# note\n"
        "\\end{table}\n"
    )


def test_an_ungrouped_table_without_a_note_has_no_inner_rule_and_no_note():
    text = pd.DataFrame({"arm": ["a", "b"], "×": ["2", "1"]})
    t = Table("c", text, text.assign(**{"×": [2.0, 1.0]}), ["arm"], {"×": "min"})
    md = to_markdown(t)
    assert md.endswith("| b | **1** |\n") and md.count("\n\n") == 1
    tex = to_latex(t)
    assert tex.count("\\midrule") == 1 and "\\par" not in tex
    assert "arm & $\\times$ $\\downarrow$ \\\\" in tex and "{lr}" in tex
    assert "a & 2 \\\\\nb & \\textbf{1} \\\\\n\\bottomrule" in tex


def test_written_tables_and_notes_hold_both_formats(tmp_path):
    paths = write_table(grouped(), tmp_path / "t")
    assert [p.name for p in paths] == ["t.md", "t.tex"]
    assert paths[0].read_text() == to_markdown(grouped())
    assert paths[1].read_text() == to_latex(grouped())
    md, tex = write_note("no video runs", tmp_path / "v")
    assert md.read_text() == "no video runs\n" and tex.read_text() == "% no video runs\n"


# -- which rows the paper tables keep -------------------------------------------------------


def test_headline_is_the_first_tailless_fd_over_images_and_its_extractors_kid():
    cols = ["fd_frame_domain", "fd_domain_train", "fd_domain_gap", "fd_domain", "kid_domain"]
    assert headline(pd.DataFrame(columns=cols)) == ("fd_domain", "kid_domain")
    assert headline(pd.DataFrame(columns=["fid", "kid_domain", "kid"])) == ("fid", "kid")
    assert headline(pd.DataFrame(columns=["fd_domain", "kid"])) == ("fd_domain", None)
    assert headline(pd.DataFrame(columns=["fd_video_domain3d", "kid_domain"])) == (None, None)


def test_labels():
    assert label("fd_domain") == "FD-domain" and label("kid") == "KID" and label("fvd") == "FVD"
    assert label("kid_video_domain3d") == "KID-video-domain3d" and label("fid_train") == "FID-train"
    assert label("precision_domain") == "precision domain"
    assert label("temporal_consistency") == "temporal consistency"


def test_video_rows_are_those_with_a_video_fd():
    s = pd.DataFrame({"dataset": ["v", "d", "v"], "fd_video_domain3d": [1.0, NAN, 2.0]})
    assert video_rows(s)["dataset"].tolist() == ["v", "v"]
    assert video_rows(s.drop(columns="fd_video_domain3d")).empty


def test_largest_size_is_taken_per_dataset():
    s = pd.DataFrame({"dataset": ["d", "d", "e", "d", "e"], "train_images": [10, 99, 5, 99, 3]})
    assert largest_size(s).index.tolist() == [1, 2, 3]  # d at 99, e at 5


def test_cost_rows_prefer_the_named_precision_and_keep_one_row_per_arm():
    profile = pd.DataFrame(
        {
            "dataset": ["d", "d", "d", "e"],
            "arm": ["a", "a", "b", "a"],
            "precision": ["bf16", "fp32", "bf16", "fp16"],
            "ms_per_step": [1.0, 2.0, 3.0, 4.0],
        }
    )
    rows = cost_rows(profile).set_index(["dataset", "arm"])["ms_per_step"]
    assert rows.to_dict() == {("d", "a"): 2.0, ("d", "b"): 3.0, ("e", "a"): 4.0}
    picked = cost_rows(profile, "bf16").set_index(["dataset", "arm"])["precision"]
    assert picked.to_dict() == {("d", "a"): "bf16", ("d", "b"): "bf16", ("e", "a"): "fp16"}
    assert list(cost_rows(None).columns) == ["dataset", "arm"] and cost_rows(None).empty
    assert cost_rows(profile.iloc[0:0]).empty


# -- the ablation table -------------------------------------------------------------------


def stat(dataset, arm, images, metric, mean, lo=NAN, hi=NAN, n=3) -> dict:
    return dict(
        study="s", dataset=dataset, arm=arm, size=str(images), train_images=images,
        metric=metric, n=n, mean=mean, ci_lo=lo, ci_hi=hi,
    )  # fmt: skip


# d1 at 1000 images (its largest) and 100 (left out: its FD of 1.0 would be best), d2 at 50
ABLATION_STATS = pd.DataFrame(
    [
        stat("d1", "a", 1000, "fd_domain", 5.0, 4.0, 6.0),
        stat("d1", "b", 1000, "fd_domain", 3.5, 3.0, 4.0),
        stat("d1", "a", 1000, "kid_domain", 0.0123, 0.01, 0.015),
        stat("d1", "b", 1000, "kid_domain", 0.02, 0.01, 0.03),
        stat("d1", "a", 1000, "precision_domain", 0.61),
        stat("d1", "b", 1000, "precision_domain", 0.7),
        stat("d1", "a", 1000, "recall_domain", 0.42),
        stat("d1", "b", 1000, "recall_domain", 0.3),
        stat("d1", "a", 100, "fd_domain", 1.0, 0.5, 1.5, 5),
        stat("d1", "b", 100, "fd_domain", 50.0, 40.0, 60.0, 5),
        stat("d2", "a", 50, "fd_domain", 20.0, 10.0, 30.0, 2),
        stat("d2", "b", 50, "fd_domain", 30.0, NAN, NAN, 1),
        stat("d2", "a", 50, "kid_domain", 0.5, 0.4, 0.6, 2),
        stat("d2", "a", 50, "precision_domain", 0.5, n=2),
        stat("d2", "b", 50, "precision_domain", 0.9, n=1),
        stat("d2", "a", 50, "recall_domain", 0.2, n=2),
        stat("d2", "b", 50, "recall_domain", 0.1, n=1),
    ]
)


def run(dataset, arm, images, collapsed, converged=True) -> dict:
    return dict(
        dataset=dataset, arm=arm, train_images=images, collapsed=collapsed,
        converged=converged, fd_domain=1.0, kid_domain=0.1, precision_domain=0.5,
        recall_domain=0.5,
    )  # fmt: skip


ABLATION_RUNS = pd.DataFrame(
    [
        run("d1", "a", 1000, True),
        run("d1", "a", 1000, False),
        run("d1", "a", 1000, False, False),
        run("d1", "b", 1000, False),
        run("d1", "b", 1000, None, None),
        run("d1", "b", 1000, False),
        run("d1", "a", 100, True),  # another size: not counted in the 1000-image row
        run("d1", "b", 100, True),
        run("d2", "a", 50, None, None),
        run("d2", "a", 50, None, None),
        run("d2", "b", 50, True, False),
    ]
)

PROFILE = pd.DataFrame(
    {
        "dataset": ["d1", "d1", "d1"],
        "arm": ["a", "a", "b"],
        "precision": ["fp32", "fp16", "fp16"],
        "macs_g": [2.5e8, 9e9, 3e8],
        "macs_d": [5e7, 9e9, 5e7],
        "params_g": [1.5e6, 0.0, 2.5e6],
        "params_d": [0.5e6, 0.0, 0.5e6],
        "ms_per_step": [12.0, 6.0, 15.0],
        "ratio_to_baseline": [1.0, 1.0, 1.25],
        "ratio_lo": [1.0, 1.0, 1.2],
        "ratio_hi": [1.0, 1.0, 1.3],
        "loaded": [False, False, True],
        "peak_mem_mib": [100.0, 50.0, 80.0],
    }
)


def ablation(stats=ABLATION_STATS, runs=ABLATION_RUNS, profile=PROFILE, **kw) -> Table:
    return ablation_table(runs, stats, profile, **kw)


def test_ablation_keeps_each_datasets_largest_size_and_prints_mean_and_half_ci():
    t = ablation()
    assert t.keys == ["dataset", "arm"] and t.group == ["dataset"]
    assert t.text[["dataset", "arm"]].values.tolist() == [
        ["d1", "a"],
        ["d1", "b"],
        ["d2", "a"],
        ["d2", "b"],
    ]
    assert t.text["FD-domain"].tolist() == ["5 ± 1", "3.5 ± 0.5", "20 ± 10", "30 (n=1)"]
    assert t.text["KID-domain"].tolist() == ["0.0123 ± 0.0025", "0.02 ± 0.01", "0.5 ± 0.1", "–"]
    assert t.text["precision domain"].tolist() == ["0.61", "0.7", "0.5", "0.9"]
    assert t.text["recall domain"].tolist() == ["0.42", "0.3", "0.2", "0.1"]
    assert t.text["seeds"].tolist() == ["3", "3", "2", "1"]  # the headline FD's n
    assert t.values["FD-domain"].tolist() == [5.0, 3.5, 20.0, 30.0]


def test_ablation_bolds_each_datasets_best_arm_in_the_metrics_direction():
    t = ablation()
    assert t.best == {
        "FD-domain": "min",
        "KID-domain": "min",
        "precision domain": "max",
        "recall domain": "max",
        "ms/step": "min",
        "peak MiB": "min",
    }
    mask = bold_mask(t)
    assert mask["FD-domain"].tolist() == [False, True, True, False]
    assert mask["KID-domain"].tolist() == [True, False, False, False]  # d2: one value
    assert mask["precision domain"].tolist() == [False, True, False, True]
    assert mask["recall domain"].tolist() == [True, False, True, False]
    assert mask["ms/step"].tolist() == [True, False, False, False]
    assert mask["peak MiB"].tolist() == [False, True, False, False]
    for never in ("seeds", "collapsed", "converged", "overhead %", "GMACs G", "params (M)"):
        assert not mask[never].any()


def test_ablation_counts_flags_per_arm_at_the_shown_size():
    t = ablation()
    assert t.text["collapsed"].tolist() == ["1/3", "0/2", "–", "1/1"]
    assert t.text["converged"].tolist() == ["2/3", "2/2", "–", "0/1"]
    assert "collapsed / converged: runs that meet the declared criterion" in t.note
    plain = ablation(runs=ABLATION_RUNS.drop(columns=["collapsed", "converged"]))
    assert "collapsed" not in plain.text and "collapsed /" not in plain.note
    no_sizes = ablation(runs=ABLATION_RUNS.drop(columns="train_images"))
    assert "collapsed" not in no_sizes.text


def test_ablation_cost_columns_take_the_fp32_row_and_the_overhead_over_the_baseline():
    t = ablation()
    assert list(t.text.columns) == [
        "dataset", "arm", "FD-domain", "KID-domain", "precision domain", "recall domain",
        "seeds", "collapsed", "converged", "GMACs G", "GMACs D", "params (M)", "ms/step",
        "overhead %", "peak MiB",
    ]  # fmt: skip
    assert t.text["GMACs G"].tolist() == ["0.25", "0.3", "–", "–"]
    assert t.text["GMACs D"].tolist() == ["0.05", "0.05", "–", "–"]
    assert t.text["params (M)"].tolist() == ["2", "3", "–", "–"]
    assert t.text["ms/step"].tolist() == ["12", "15", "–", "–"]
    # b is 25 % slower than the baseline (ratio 1.25), on a loaded machine
    assert t.text["overhead %"].tolist() == ["+0.0", "+25.0 [+20.0, +30.0]†", "–", "–"]
    assert t.values["overhead %"].tolist()[:2] == pytest.approx([0.0, 25.0])
    assert t.text["peak MiB"].tolist() == ["100", "80", "–", "–"]
    assert "one training step (D + G), fp32, median of the profile" in t.note


def test_ablation_counts_macs_in_millions_below_a_tenth_of_a_giga():
    small = PROFILE.assign(macs_g=[9.9e7, 9e9, 2e7], macs_d=[5e7, 9e9, 3e6])
    t = ablation(profile=small)
    assert t.text["MMACs G"].tolist()[:2] == ["99", "20"]
    assert t.text["MMACs D"].tolist()[:2] == ["50", "3"]
    # the threshold reads the larger of G and D
    t = ablation(profile=small.assign(macs_d=[1e8, 9e9, 3e6]))
    assert t.text["GMACs D"].tolist()[:2] == ["0.1", "0.003"]


def test_an_overhead_a_machine_cannot_read_or_a_point_interval_shows_no_bracket():
    profile = PROFILE.assign(ratio_to_baseline=[NAN, 1.0, 0.9], ratio_lo=[NAN, 1, 0.9])
    profile["ratio_hi"] = [NAN, 1.0, 0.9]
    profile["loaded"] = ["False", "False", "True"]  # as read back from CSV
    assert ablation(profile=profile).text["overhead %"].tolist()[:2] == ["–", "-10.0†"]


def test_ablation_without_a_profile_has_no_cost_columns_and_says_so():
    t = ablation(profile=None)
    assert "ms/step" not in t.text and "ms/step" not in t.best
    assert "one training step (D + G), –, median" in t.note


def test_ablation_carries_the_floor_never_bold_and_its_note():
    floor = pd.DataFrame(
        {
            "dataset": ["d1", "d1"],
            "metric": ["fd_domain", "kid_domain"],
            "mean": [0.08, 0.001],
            "sd": [0.0234, 0.0005],
            "resamples": [5, 5],
            "num_samples": [500, 500],
            "reference_count": [400, 400],
        }
    )
    t = ablation(floor=floor)
    cols = list(t.text.columns)
    assert cols.index("FD-domain floor") == cols.index("KID-domain") + 1
    assert t.text["FD-domain floor"].tolist() == ["0.08 ± 0.023", "0.08 ± 0.023", "–", "–"]
    assert not bold_mask(t)["FD-domain floor"].any()
    expected = (
        " floor: FD between 500 training-pool and 400 held-out real images, mean ± SD over 5"
        " draws: a difference between arms under it is no effect."
    )
    assert floor_note(floor) == expected and t.note.endswith(expected)
    assert floor_note(None) == floor_note(floor.iloc[0:0]) == ""


def test_ablation_leaves_video_datasets_out_and_needs_an_image_fd():
    runs = pd.concat([ABLATION_RUNS, pd.DataFrame([run("v", "a", 10, False)])])
    runs["fd_video_domain3d"] = [NAN] * len(ABLATION_RUNS) + [3.0]
    stats = pd.concat([ABLATION_STATS, pd.DataFrame([stat("v", "a", 10, "fd_domain", 0.1)])])
    assert ablation(stats=stats, runs=runs).text["dataset"].tolist() == ["d1", "d1", "d2", "d2"]
    only_video = stats[stats["dataset"] == "v"]
    assert ablation(stats=only_video, runs=runs) is None
    assert ablation(runs=ABLATION_RUNS.drop(columns="fd_domain")) is None


def test_plain_precision_and_recall_columns_are_used_without_an_extractor():
    stats = ABLATION_STATS.replace({"precision_domain": "precision", "recall_domain": "recall"})
    plain = {"precision_domain": "precision", "recall_domain": "recall"}
    t = ablation(stats=stats, runs=ABLATION_RUNS.rename(columns=plain))
    assert t.text["precision"].tolist() == ["0.61", "0.7", "0.5", "0.9"]
    assert t.text["recall"].tolist() == ["0.42", "0.3", "0.2", "0.1"]
    assert t.best["precision"] == t.best["recall"] == "max"
    t = ablation(stats=stats, runs=ABLATION_RUNS.rename(columns=plain).drop(columns="recall"))
    assert "recall" not in t.text and "precision" in t.text


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(range(len(ABLATION_STATS))), runs=st.permutations(range(11)))
def test_the_order_of_the_input_rows_does_not_change_the_table(order, runs):
    shuffled = ablation(stats=ABLATION_STATS.iloc[list(order)], runs=ABLATION_RUNS.iloc[list(runs)])
    assert shuffled.text.equals(ablation().text)


def test_seeds_are_averaged_within_each_arm_and_size_end_to_end():
    from scipy import stats as sp

    from sagan.report.stats import cell_stats

    rows = [("d", "a", 100, s, fd) for s, fd in enumerate([10.0, 11.0, 12.0])]
    rows += [("d", "b", 100, s, fd) for s, fd in enumerate([20.0, 22.0])]
    rows += [("d", "a", 10, s, 1.0) for s in range(3)]  # a smaller size: not in the mean
    runs = pd.DataFrame(rows, columns=["dataset", "arm", "train_images", "seed", "fd_domain"])
    runs = runs.assign(study="s", size=runs["train_images"].astype(str), status="done")
    runs.loc[len(runs)] = ["d", "b", 100, 2, 0.0, "s", "100", "diverged"]  # not done: left out
    t = ablation_table(runs, cell_stats(runs, ["fd_domain"]), None)
    # a: 10, 11, 12 -> mean 11, sd 1; b: 20, 22 -> mean 21, sd sqrt(2); neither CI reaches 0
    assert sp.t.ppf(0.975, 2) * 1.0 / math.sqrt(3) == pytest.approx(2.484, abs=1e-3)
    assert sp.t.ppf(0.975, 1) * math.sqrt(2) / math.sqrt(2) == pytest.approx(12.706, abs=1e-3)
    assert t.text["FD-domain"].tolist() == ["11 ± 2.5", "21 ± 13"]
    assert t.text["seeds"].tolist() == ["3", "2"]
    assert bold_mask(t)["FD-domain"].tolist() == [True, False]


# -- small data, video, scaling -----------------------------------------------------------


def small_stats() -> pd.DataFrame:
    rows = []
    for images, arm, held, train, gap, r_t, memo in [
        (100, "a", 8.0, 2.0, 6.0, 0.9, 0.3),
        (100, "b", 9.0, 8.5, 0.5, 0.2, 0.1),
        (1000, "a", 4.0, 3.9, 0.1, 0.1, 0.0),
        (1000, "b", 3.0, 1.0, 2.0, 0.4, 0.2),
    ]:
        rows += [
            stat("d", arm, images, "fd_domain", held, held - 1, held + 1),
            stat("d", arm, images, "fd_domain_train", train),
            stat("d", arm, images, "fd_domain_gap", gap, gap - 0.5, gap + 0.5),
            stat("d", arm, images, "r_t", r_t, r_t - 0.1, r_t + 0.1, 2),
            stat("d", arm, images, "memo_domain_near_copy_fraction", memo),
        ]
    return pd.DataFrame(rows)


SMALL_RUNS = pd.DataFrame(
    {
        "dataset": "d",
        "arm": ["a", "b", "a", "b"],
        "train_images": [100, 100, 1000, 1000],
        "fd_domain": 1.0,
        "memo_domain_median_ratio": 0.9,  # a memo column, but not the near copies
        "memo_domain_near_copy_fraction": 0.1,
    }
)


def test_small_data_keys_rows_by_size_and_bolds_within_each_size():
    t = small_data_table(SMALL_RUNS, small_stats())
    assert t.keys == ["dataset", "images", "arm"] and t.group == ["dataset", "images"]
    assert list(t.text.columns) == [
        "dataset", "images", "arm", "FD-domain held-out", "FD-domain train", "gap", "r_t",
        "near copies", "seeds",
    ]  # fmt: skip
    assert t.text["images"].tolist() == [100, 100, 1000, 1000]
    assert t.text["FD-domain held-out"].tolist() == ["8 ± 1", "9 ± 1", "4 ± 1", "3 ± 1"]
    assert t.text["FD-domain train"].tolist() == ["2", "8.5", "3.9", "1"]
    assert t.text["gap"].tolist() == ["6 ± 0.5", "0.5 ± 0.5", "0.1 ± 0.5", "2 ± 0.5"]
    assert t.text["r_t"].tolist() == ["0.9 ± 0.1", "0.2 ± 0.1", "0.1 ± 0.1", "0.4 ± 0.1"]
    assert t.text["near copies"].tolist() == ["0.3", "0.1", "0", "0.2"]
    assert t.text["seeds"].tolist() == ["3", "3", "3", "3"]
    assert t.best == {"FD-domain held-out": "min", "gap": "min", "r_t": "min", "near copies": "min"}
    mask = bold_mask(t)
    assert mask["FD-domain held-out"].tolist() == [True, False, False, True]
    assert mask["gap"].tolist() == [False, True, True, False]
    assert mask["r_t"].tolist() == [False, True, True, False]
    assert mask["near copies"].tolist() == [False, True, True, False]
    assert not mask["FD-domain train"].any()
    assert "gap = FD(held-out) - FD(train): > 0 means G is closer to its training" in t.note


def test_small_data_puts_the_floor_beside_the_held_out_fd():
    floor = pd.DataFrame(
        {"dataset": ["d"], "metric": ["fd_domain"], "mean": [0.5], "sd": [0.25]}
        | {"resamples": [3], "num_samples": [200], "reference_count": [100]}
    )
    t = small_data_table(SMALL_RUNS, small_stats(), floor)
    assert list(t.text.columns[3:6]) == ["FD-domain held-out", "floor", "FD-domain train"]
    assert t.text["floor"].tolist() == ["0.5 ± 0.25"] * 4
    assert "FD between 200 training-pool and 100 held-out" in t.note
    without_memo = small_data_table(
        SMALL_RUNS.drop(columns="memo_domain_near_copy_fraction"), small_stats()
    )
    assert "near copies" not in without_memo.text and "near copies" not in without_memo.best
    assert small_data_table(SMALL_RUNS.drop(columns="fd_domain"), small_stats()) is None


def test_video_table_bolds_video_fd_low_and_temporal_consistency_high():
    metrics = {
        "fd_frame_domain": (5.0, 7.0),
        "fd_video_domain3d": (40.0, 30.0),
        "temporal_consistency": (0.8, 0.6),
    }
    stats = [
        stat("v", arm, 64, m, pair[i], pair[i] - 1, pair[i] + 1, 4 - i)
        for m, pair in metrics.items()
        for i, arm in enumerate(["a", "b"])
    ]
    stats += [stat("v", "a", 32, "fd_video_domain3d", 1.0, 0.5, 1.5)]  # smaller: left out
    stats += [stat("d", "a", 64, "fd_domain", 1.0, 0.5, 1.5)]  # an image dataset
    runs = pd.DataFrame(
        {
            "dataset": ["v", "v", "d"],
            "arm": ["a", "b", "a"],
            "train_images": [64, 64, 64],
            "fd_frame_domain": [1.0, 1.0, NAN],
            "fd_video_domain3d": [1.0, 1.0, NAN],
            "temporal_consistency": [1.0, 1.0, NAN],
            "fvd": NAN,  # a column nobody filled: no table column
            "collapsed": [False, True, False],
        }
    )
    profile = PROFILE.assign(dataset=["v", "d", "v"]).iloc[[2, 1, 0]]  # b first, then a
    t = video_table(runs, pd.DataFrame(stats), profile)
    assert t.keys == ["dataset", "arm"] and t.group == ["dataset"]
    assert t.caption == "Video: per-frame and video quality, temporal consistency, cost"
    assert t.note == (
        "Mean ± half the 95% Student-t CI over seeds, at each dataset's largest training set. "
        f"Cost: one training step (D + G), median of the profile; {OVERHEAD_NOTE} {FLAG_NOTE}"
    )
    assert t.text["collapsed"].tolist() == ["0/1", "1/1"]
    assert t.text["ms/step"].tolist() == ["12", "15"]
    assert list(t.text.columns) == [
        "dataset", "arm", "FD-frame-domain", "FD-video-domain3d", "temporal consistency",
        "seeds", "collapsed", "ms/step", "overhead %",
    ]  # fmt: skip
    assert t.text["dataset"].tolist() == ["v", "v"]
    assert t.text["FD-video-domain3d"].tolist() == ["40 ± 1", "30 ± 1"]
    assert t.text["seeds"].tolist() == ["4", "3"]
    assert t.text["overhead %"].tolist() == ["+0.0", "+25.0 [+20.0, +30.0]†"]
    assert t.best == {
        "FD-frame-domain": "min",
        "FD-video-domain3d": "min",
        "temporal consistency": "max",
        "ms/step": "min",
    }
    mask = bold_mask(t)
    assert mask["FD-frame-domain"].tolist() == [True, False]
    assert mask["FD-video-domain3d"].tolist() == [False, True]
    assert mask["temporal consistency"].tolist() == [True, False]
    assert mask["ms/step"].tolist() == [True, False]
    assert "ms/step" not in video_table(runs, pd.DataFrame(stats), None).best


def test_scaling_rows_keep_sweep_order_and_end_each_placement_with_its_slopes():
    rows = []
    for arm, resolution, side in [("zeta", 64, 16), ("zeta", 64, 32), ("alpha", 64, 32)]:
        for n in (4096, 256, 1024, 0):  # out of order, and a run with no attention (N = 0)
            rows.append(
                dict(arm=arm, resolution=resolution * n // 1024 or 8, tokens=n,
                     attention_side=side * n // 1024 or 4, overhead_ms=0.001 * n**1.5,
                     overhead_mem_mib=n / 64, attention_macs=1000.0 * n**2, device="cpu-x")
            )  # fmt: skip
    t = scaling_table(pd.DataFrame(rows))
    assert t.keys == ["arm", "placement", "image px", "tokens N"] and t.best == {}
    assert t.group == ["arm", "placement"]
    firsts = t.text.drop_duplicates(["arm", "placement"])
    # side 32 of 64 px is side / 2, side 16 is side / 4: the larger attention map first
    assert firsts[["arm", "placement"]].values.tolist() == [
        ["zeta", "image side / 2"],
        ["zeta", "image side / 4"],
        ["alpha", "image side / 2"],
    ]
    assert "0" not in t.text["tokens N"].tolist()  # no attention, nothing to scale
    block = t.text[(t.text["arm"] == "zeta") & (t.text["placement"] == "image side / 4")]
    assert block["tokens N"].tolist() == ["256", "1024", "4096", "log-log"]
    assert block["image px"].tolist() == ["16", "64", "256", "slope"]
    assert block["ms over baseline"].tolist() == ["4.1", "32.8", "262", "1.5"]
    assert block["MiB over baseline"].tolist() == ["4", "16", "64", "1"]
    assert block["attention MMACs"].tolist() == ["65.5", "1049", "16777", "2"]
    assert "Measured on cpu-x." in t.note
    assert "Measured on ?." in scaling_table(pd.DataFrame(rows).drop(columns="device")).note


def test_ablation_caption_and_note_say_what_the_numbers_are():
    t = ablation()
    assert t.caption == "Ablation: quality and cost per arm and dataset"
    quality = (
        "Quality: mean ± half the 95% Student-t CI over seeds, at each dataset's largest "
        "training set. Cost: one training step (D + G), fp32, median of the profile; "
        f"{OVERHEAD_NOTE} MACs per image (FLOPs = 2 x MACs). FD-domain/KID-domain are not FID."
    )
    assert t.note == f"{quality} {FLAG_NOTE}"
    plain = ablation(runs=ABLATION_RUNS.drop(columns=["collapsed", "converged"]))
    assert plain.note == quality


def test_ablation_names_a_failed_extractor_check_under_its_floor():
    floor = pd.DataFrame(
        {"dataset": ["d1"], "metric": ["fd_domain"], "mean": [0.08], "sd": [0.02]}
        | {"resamples": [5], "num_samples": [500], "reference_count": [400]}
    )
    checks = pd.DataFrame(
        {"dataset": "d1", "extractor": "domain"}
        | {"degradation": ["gaussian_blur", "gaussian_blur", "gaussian_noise"]}
        | {"strength": [0.03, 0.1, 32.0], "expected_rank": [1, 2, 1]}
        | {"fd": [0.3, 0.2, 0.05], "ok": [True, False, False]}
    )
    note = ablation(floor=floor, checks=checks).note
    assert note.endswith(
        "under it is no effect. WARNING: extractor check failed: d1 (domain): FD of "
        "gaussian_blur at strength 0.1 is 0.2, not above its milder step. WARNING: extractor "
        "check failed: d1 (domain): FD of gaussian_noise at strength 32 is 0.05, not above the "
        "floor."
    )
    assert "WARNING" not in ablation(floor=floor, checks=checks.assign(ok=True)).note


def test_a_profile_of_other_datasets_leaves_every_cost_cell_empty():
    t = ablation(profile=PROFILE.assign(dataset="elsewhere"))
    assert t.text["ms/step"].tolist() == t.text["overhead %"].tolist() == ["–"] * 4
    assert "one training step (D + G), –, median" in t.note


def test_small_data_without_a_metric_shows_a_dash_and_bolds_nothing_there():
    stats = small_stats()
    stats = stats[~stats["metric"].isin(["r_t", "fd_domain_train"])]
    t = small_data_table(SMALL_RUNS, stats)
    assert t.text["r_t"].tolist() == t.text["FD-domain train"].tolist() == ["–"] * 4
    assert not bold_mask(t)["r_t"].any()
    assert bold_mask(t)["gap"].tolist() == [False, True, True, False]


def test_small_data_counts_flags_per_size_and_prints_whole_image_counts():
    runs = SMALL_RUNS.assign(collapsed=[True, False, None, False])
    stats = small_stats().astype({"train_images": float})  # as read from a CSV with gaps
    t = small_data_table(runs, stats)
    assert t.text["collapsed"].tolist() == ["1/1", "0/1", "–", "0/1"]
    assert "| d | 100 | a | **8 ± 1** |" in to_markdown(t)
    assert t.caption == "Small data: generalisation gap and overfitting per training-set size"
    assert t.note == (
        "gap = FD(held-out) - FD(train): > 0 means G is closer to its training images. "
        "r_t = E[sign(D(x_train))] (Karras et al. 2020): toward 1 as D overfits. "
        f"Mean ± half the 95% Student-t CI over seeds. {FLAG_NOTE}"
    )


def test_scaling_slopes_need_three_token_counts_and_print_two_digits():
    rows = pd.DataFrame(
        {
            "arm": "v",
            "resolution": [16, 32, 64, 16, 32, 1],
            "attention_side": [16, 32, 64, 4, 8, 1],  # side / 1 at 3 sizes, side / 4 at 2
            "tokens": [256, 1024, 4096, 16, 64, 1],
            "overhead_ms": [1.0, 2.0, 4.0, 1.0, 2.0, 0.5],
            # slope through 3 evenly spaced log N: log(30 / 1) / log(4096 / 256) = 1.227
            "overhead_mem_mib": [1.0, 5.0, 30.0, 1.0, 2.0, 0.5],
            "attention_macs": [1e6, 2e6, 4e6, 1e6, 2e6, 1e5],
        }
    )
    t = scaling_table(rows)
    fits = t.text[t.text["image px"] == "slope"].set_index("placement")
    # side / 1 also holds the one-token map (N = 1)
    assert t.text[t.text["placement"] == "image side / 1"]["tokens N"].tolist() == [
        "1", "256", "1024", "4096", "log-log",
    ]  # fmt: skip
    assert fits.loc["image side / 4", "ms over baseline"] == "no slope"
    assert fits.loc["image side / 4", "attention MMACs"] == "no slope"
    mem = math.log(30.0) / math.log(16.0)
    assert mem == pytest.approx(1.227, abs=1e-3)
    assert scaling_table(rows.iloc[:3]).text["MiB over baseline"].iloc[-1] == "1.2"
    assert t.caption == (
        "Cost scaling of attention against tokens N (attention MACs per image, G + D)"
    )
    assert t.note == (
        "Measured on ?. 'slope' rows: least-squares slope of log cost on log N "
        "(2 = quadratic in tokens, 1 = linear), through the token counts whose cost lies above "
        "the measurement floor (time: the per-round ratio's interval above 1; memory: above one "
        "0.1 MiB step of the reading); 'no slope': fewer than 3 points above the floor, no slope."
    )
    assert to_markdown(t).count("**") == 2  # the caption: nothing to bold, but it renders
