"""A study of video datasets only gets its whole report: no image table or figure assumes an
image FD (the KeyError 'mean' and empty-grid crashes a video-only study once hit)."""

import matplotlib.pyplot as plt
import pandas as pd

from sagan.report import paper_tables as pt
from sagan.report.build import (
    Results,
    draw_figure,
    figure_makers,
    write_stats,
    write_tables,
)
from sagan.report.outputs import FIGURES
from sagan.report.study_figures import quality_cost_pareto

ARMS = ["video_baseline", "video3d", "video_factorized"]


def video_summary() -> pd.DataFrame:
    """Three video arms x two seeds, with the columns a video run's summary row has."""
    rows = [
        {
            "study": "video-only", "dataset": "moving-digits", "arm": arm,
            "variant": arm, "size": "full", "seed": seed, "train_images": 160,
            "iterations": 60, "it_per_s": 20.0 - 5 * i, "train_seconds": 3.0,
            "fd_video_domain3d": 18000.0 + 100 * i + seed,
            "kid_video_domain3d": 3.0e6, "fd_frame_domain": 14000.0 + i,
            "kid_frame_domain": 1.1e7, "temporal_consistency": 0.05 + 0.01 * i,
            "motion_smoothness": -0.05, "motion_smoothness_real_heldout": -0.01,
            "temporal_consistency_real_heldout": 0.9, "status": "done", "reason": "",
            "run_dir": f"results/runs/video-only/{arm}/s{seed}",
        }
        for i, arm in enumerate(ARMS)
        for seed in (0, 1)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def profile() -> pd.DataFrame:
    """A side-by-side profile's columns that the tables and figures read."""
    return pd.DataFrame(
        {
            "dataset": "moving-digits", "arm": ARMS, "precision": "fp32",
            "ms_per_step": [12.7, 26.2, 26.1], "ratio_to_baseline": [1.0, 2.06, 2.05],
            "loaded": False, "peak_mem_mib": 40.0, "macs_g": 3.6e6, "macs_d": 3.9e5,
            "params_g": 75081, "params_d": 9241,
        }
    )  # fmt: skip


def test_image_tables_and_the_quality_cost_figure_step_aside_for_a_video_only_study():
    summary = video_summary()
    from sagan.report.stats import cell_stats, numeric_metrics

    stats = cell_stats(summary, numeric_metrics(summary))
    assert pt.ablation_table(summary, stats, profile()) is None
    assert quality_cost_pareto(stats, profile(), summary) is None
    video = pt.video_table(summary, stats, profile())
    assert list(video.text["arm"]) == sorted(ARMS)


def test_a_video_only_results_folder_builds_every_table_and_figure(tmp_path):
    results = tmp_path / "results" / "video-only"
    results.mkdir(parents=True)
    summary = video_summary()
    summary.to_csv(results / "summary.csv", index=False)
    for run in summary["run_dir"]:  # the folders the summary lists, beside results/
        (tmp_path / run).mkdir(parents=True)
    (results / "cost").mkdir()
    profile().to_csv(results / "cost" / "profile_moving-digits.csv", index=False)
    r = Results(results)
    write_stats(r)
    written = {p.name for p in write_tables(r, tmp_path / "tables")}
    assert {"ablation.md", "video.md", "claims.md", "learned.md"} <= written
    assert (tmp_path / "tables" / "ablation.md").read_text().startswith("no image runs")
    plan = r.plan
    assert {
        "probe_coherence",
        "attention_maps",
        "quality_cost_pareto",
        "sensitivity",
        "fd_during",
    } == {k.split("/")[1] for k in plan.left_out if k.startswith("figures/")}
    makers = figure_makers(r)
    for name in FIGURES:
        if name in ("sample_grids", "attention_maps"):  # they read run folders' files
            continue
        # a left-out figure has nothing to draw; a planned one is drawn (or says what it lacks)
        fig = draw_figure(r, name) if name in plan.figures else makers[name]()
        assert isinstance(fig, plt.Figure) if name in plan.figures else fig is None, name
        plt.close(fig) if fig is not None else None
