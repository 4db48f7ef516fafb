"""Paper tables: bold follows the metric's direction; Markdown and LaTeX agree."""

import pandas as pd

from sagan.report.paper_tables import headline, label, video_table
from sagan.report.tables import Table, bold_mask, direction, fmt_ci, to_latex, to_markdown


def table() -> Table:
    text = pd.DataFrame(
        {
            "dataset": ["d", "d", "e", "e"],
            "arm": ["a", "b", "a", "b"],
            "FD": ["1", "2", "5", "4"],
            "precision": ["0.9", "0.1", "0.3", "0.8"],
        }
    )
    values = text.assign(FD=[1.0, 2.0, 5.0, 4.0], precision=[0.9, 0.1, 0.3, 0.8])
    best = {"FD": direction("fd_domain"), "precision": direction("precision_domain")}
    return Table("t", text, values, ["dataset", "arm"], best, ["dataset"])


def test_directions():
    assert direction("fd_domain") == direction("kid_video_domain3d") == "min"
    assert direction("fd_domain_gap") == direction("ms_per_step") == "min"
    assert direction("swd_256px") == direction("spectrum_hf_l1") == "min"
    assert direction("precision_domain") == direction("temporal_consistency") == "max"


def test_best_is_the_min_for_fd_and_the_max_for_precision_within_each_dataset():
    mask = bold_mask(table())
    assert mask["FD"].tolist() == [True, False, False, True]
    assert mask["precision"].tolist() == [True, False, False, True]
    assert not mask["arm"].any()


def test_tied_best_values_are_all_bold():
    text = pd.DataFrame({"arm": ["a", "b", "c"], "FD": ["1", "1", "2"]})
    t = Table("t", text, text.assign(FD=[1.0, 1.0, 2.0]), ["arm"], {"FD": "min"})
    assert bold_mask(t)["FD"].tolist() == [True, True, False]
    assert "| a | **1** |" in to_markdown(t) and "| b | **1** |" in to_markdown(t)


def test_markdown_and_latex_bold_the_same_cells():
    md, tex = to_markdown(table()), to_latex(table())
    assert "| d | a | **1** | **0.9** |" in md and "FD ↓" in md and "precision ↑" in md
    assert "d & a & \\textbf{1} & \\textbf{0.9} \\\\" in tex
    assert "\\toprule" in tex and "\\bottomrule" in tex and tex.count("\\midrule") == 2


def test_uncertainty_is_half_the_ci_width_and_one_seed_says_so():
    assert fmt_ci(10.0, 9.0, 12.0, 3) == "10 ± 1.5"
    assert fmt_ci(10.0, float("nan"), float("nan"), 1) == "10 (n=1)"


def test_headline_and_labels():
    df = pd.DataFrame(columns=["fd_domain", "kid_domain", "fd_domain_gap", "fd_frame_domain"])
    assert headline(df) == ("fd_domain", "kid_domain")
    assert label("fd_video_domain3d") == "FD-video-domain3d" and label("fid") == "FID"


def test_no_video_runs_gives_no_video_table():
    summary = pd.DataFrame({"dataset": ["d"], "arm": ["a"], "fd_domain": [1.0]})
    assert video_table(summary, pd.DataFrame(), None) is None


def one_seed_summary(variants: list[str]) -> pd.DataFrame:
    """One done run (seed 0, full size) per variant, FD-domain 1, 2, ..."""
    return pd.DataFrame(
        {
            "study": "s",
            "dataset": "d",
            "arm": variants,
            "size": "full",
            "train_images": 10,
            "seed": 0,
            "status": "done",
            "fd_domain": [float(i + 1) for i in range(len(variants))],
        }
    )


def test_one_seed_per_cell_gives_n1_cells_not_a_missing_column():
    from sagan.report.paper_tables import ablation_table
    from sagan.report.stats import cell_stats

    summary = one_seed_summary(["a", "b"])
    table = ablation_table(summary, cell_stats(summary, ["fd_domain"]), None)
    assert table.text["FD-domain"].tolist() == ["1 (n=1)", "2 (n=1)"]


def test_the_cost_columns_show_the_overhead_interval_and_a_loaded_machine():
    from sagan.report.paper_tables import ablation_table
    from sagan.report.stats import cell_stats

    summary = one_seed_summary(["dcgan", "sagan"])
    profile = pd.DataFrame(
        {
            "dataset": "d",
            "arm": ["dcgan", "sagan"],
            "precision": "fp32",
            **{c: 1e6 for c in ("macs_g", "macs_d", "params_g", "params_d", "peak_mem_mib")},
            "ms_per_step": [10.0, 14.0],
            "ratio_to_baseline": [1.0, 1.4],
            "ratio_lo": [1.0, 1.35],
            "ratio_hi": [1.0, 1.45],
            "loaded": [True, True],
        }
    )
    stats = cell_stats(summary, ["fd_domain"])
    table = ablation_table(summary, stats, profile)
    assert table.text["overhead %"].tolist() == ["+0.0†", "+40.0 [+35.0, +45.0]†"]
    assert "loaded" in table.note
    old = profile.drop(columns=["ratio_lo", "ratio_hi", "loaded"])  # an older profile
    assert ablation_table(summary, stats, old).text["overhead %"].tolist() == ["+0.0", "+40.0"]
