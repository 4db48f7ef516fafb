"""What a reader of the report figures needs: readable size axes, panels at most three to a
row, pixel-true sample grids, reference lines on probe panels, and no CI claimed from one
seed. Each figure is drawn from a hand-made table."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import NullLocator
from scipy import stats

from sagan.images import save_grid
from sagan.report.cost_figures import cost_scaling
from sagan.report.figures import quality_vs_size, sample_grids, save_figure, upscale
from sagan.report.panels import crowded_ticks, t_interval
from sagan.report.study_figures import probe_coherence, training_curves

REAL, CHANCE = 0.97, 1 / 9


def summary(tmp_path, seeds=(0, 1), sizes=(("500", 500), ("full", 1397))) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for dataset, channels in (("digits", 1), ("pairs", 3)):
        for variant in ("dcgan", "sagan"):
            for size, n in sizes:
                for seed in seeds:
                    run = tmp_path / dataset / variant / size / str(seed)
                    save_grid(torch.rand(4, channels, 8, 8) * 2 - 1, run / "samples.png")
                    probe = dataset == "pairs"
                    rows.append(
                        {"study": "t", "dataset": dataset, "arm": variant, "size": size}
                        | {"seed": seed, "train_images": n, "status": "done", "it_per_s": 9.0}
                        | {"fd_domain": rng.random(), "kid_domain": rng.random()}
                        | {"pairs_agreement": 0.0 if probe else np.nan}
                        | {"pairs_agreement_real_heldout": REAL if probe else np.nan}
                        | {"pairs_agreement_chance": CHANCE if probe else np.nan}
                        | {"run_dir": str(run)}
                    )
    return pd.DataFrame(rows)


def size_panels(fig):
    return [ax for ax in fig.axes if ax.get_xlabel() == "training images"]


def test_size_axes_are_log_ticked_at_the_sizes_without_minor_ticks(tmp_path):
    fig = quality_vs_size(summary(tmp_path))
    panels = size_panels(fig)
    assert len(panels) == 5  # FD and KID per dataset, the probe on pairs
    for ax in panels:
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["500", "1,397"]
        assert isinstance(ax.xaxis.get_minor_locator(), NullLocator)


def test_no_panel_of_the_quality_figure_has_overlapping_tick_labels(tmp_path):
    fig = quality_vs_size(summary(tmp_path))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert not [ax.get_ylabel() for ax in fig.axes if crowded_ticks(ax, renderer)]


def test_saved_figures_have_crowded_tick_labels_rotated_then_thinned(tmp_path):
    fig, ax = plt.subplots(figsize=(1.5, 1.5))
    ax.set_xticks(range(12), [f"{1000 * i:,}" for i in range(12)])
    fig.tight_layout()
    fig.canvas.draw()
    assert crowded_ticks(ax, fig.canvas.get_renderer())
    save_figure(fig, tmp_path / "crowded")  # closes the figure: draw it on a new canvas
    FigureCanvasAgg(fig).draw()
    assert not crowded_ticks(ax, fig.canvas.get_renderer())
    assert ax.get_xticklabels()[0].get_rotation() == 40


@pytest.mark.parametrize("draw", ["quality", "curves", "grids"])
def test_panels_wrap_at_most_three_to_a_row_and_none_is_empty(tmp_path, draw):
    table = summary(tmp_path)
    logs = table.assign(iteration=10, r_t=0.1, d_gap=0.2, loss_d=1.0, loss_g=2.0)
    logs = pd.concat([logs, logs.assign(iteration=20)])
    fig = {
        "quality": lambda: quality_vs_size(table),  # pairs: FD, KID, probe, speed
        "curves": lambda: training_curves(logs),  # four signals per dataset
        "grids": lambda: sample_grids(table),
    }[draw]()
    for ax in fig.axes:
        assert ax.get_subplotspec().get_gridspec().ncols <= 3
        assert ax.get_position().width * fig.get_figwidth() > 1.5  # inches: no narrow strips
        assert ax.lines or ax.patches or ax.images or ax.collections  # nothing blank


def test_sample_grids_show_an_exact_nearest_neighbour_upscale(tmp_path):
    table = summary(tmp_path)
    fig = sample_grids(table)
    shown = next(ax for ax in fig.axes if ax.get_title().startswith("digits · dcgan"))
    image = shown.images[0]
    grid = plt.imread(tmp_path / "digits/dcgan/full/0/samples.png")  # 2-D, grey
    factor = image.get_array().shape[0] // grid.shape[0]
    assert factor >= 2
    assert np.array_equal(np.asarray(image.get_array()), np.kron(grid, np.ones((factor, factor))))
    assert image.get_interpolation() == "nearest"
    assert image.get_clim() == (0, 1)  # no contrast stretch of a dim grid


def test_upscale_repeats_each_pixel_as_a_block():
    rgb = np.arange(12).reshape(2, 2, 3)
    big = upscale(rgb, 3)
    assert big.shape == (6, 6, 3)
    assert (big[:3, 3:] == rgb[0, 1]).all()


def reference_values(ax):
    return {line.get_label(): line.get_ydata()[0] for line in ax.lines if len(line.get_ydata())}


def test_probe_panels_draw_the_real_and_chance_scores_as_labelled_lines(tmp_path):
    table = summary(tmp_path)
    probe = next(ax for ax in quality_vs_size(table).axes if "pair" in ax.get_ylabel())
    coherence = probe_coherence(table).axes[0]
    for ax in (probe, coherence):
        lines = reference_values(ax)
        assert lines["real held-out"] == pytest.approx(REAL)
        assert lines["chance"] == pytest.approx(CHANCE)
        texts = [t.get_text() for t in ax.texts]
        assert "real held-out 0.97" in texts and f"chance {CHANCE:.2f}" in texts


def titles(fig):
    return " ".join([fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)])


def test_one_seed_figures_say_so_and_claim_no_ci(tmp_path):
    one = summary(tmp_path, seeds=(0,))
    logs = one.assign(iteration=10, r_t=0.1)
    for fig in (quality_vs_size(one), training_curves(logs), probe_coherence(one)):
        assert "one seed" in titles(fig) and "CI" not in titles(fig)
    two = summary(tmp_path / "two")
    for fig in (quality_vs_size(two), probe_coherence(two)):
        assert "mean of 2 seeds, 95% CI" in titles(fig)


def test_cost_scaling_prints_no_nan_slope():
    rows = pd.DataFrame(
        {"tokens": [16, 64], "resolution": [32, 32], "attention_side": [4, 8]}
        | {"overhead_ms": [0.5, -0.1], "attention_macs": [1e3, 1e4]}
        | {"overhead_mem_mib": [np.nan, np.nan], "device": ["cpu", "cpu"]}
    )
    fig = cost_scaling(rows)  # every placement has one token count: nothing to fit
    labels = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert labels and not any("nan" in label for label in labels)
    assert "side / 8: no slope" in labels
    assert "no slope: fewer than 3 points above the floor" in fig.get_suptitle()


def test_a_slope_needs_three_token_counts_above_the_floor_in_figure_table_and_file():
    from sagan.cost.profile import scaling_slopes
    from sagan.report.paper_tables import scaling_table

    tokens = [64, 256, 1024]
    rows = pd.DataFrame(
        {"arm": "sagan", "tokens": tokens, "resolution": [16, 32, 64]}
        | {"attention_side": [8, 16, 32], "device": "cpu", "attention_macs": [1e3, 1.6e4, 2.56e5]}
        # time: 3 points, but the first one's per-round interval reaches the baseline (1.0)
        | {"overhead_ms": [0.2, 4.0, 64.0], "ratio_lo": [0.98, 1.2, 2.0]}
        | {"overhead_mem_mib": [0.1, 3.0, 48.0]}  # 0.1 MiB: one step of the reading
    )
    fig = cost_scaling(rows)
    labels = {ax.get_ylabel(): ax.get_legend().get_texts()[0].get_text() for ax in fig.axes}
    no_slope = "side / 2: no slope"
    assert "no slope: fewer than 3 points above the floor" in fig.get_suptitle()
    assert labels == {
        "ms / step over baseline": no_slope,
        "attention MACs / image": "side / 2: slope 2.00",
        "MiB over baseline": no_slope,
    }
    table = scaling_table(rows).text
    fit = table[table["image px"] == "slope"].iloc[0]
    assert (fit["ms over baseline"], fit["MiB over baseline"]) == ("no slope", "no slope")
    assert fit["attention MMACs"] == "2"
    (slopes,) = scaling_slopes(rows.to_dict("records"))
    assert np.isnan(slopes["slope_overhead_ms"]) and np.isnan(slopes["slope_overhead_mem_mib"])
    assert slopes["slope_attention_macs"] == pytest.approx(2.0)


def test_seed_bands_are_the_student_t_interval_of_the_mean():
    values = [1.0, 2.0, 4.0]
    lo, hi = t_interval(values)
    expected = stats.t.interval(0.95, 2, loc=np.mean(values), scale=stats.sem(values))
    assert (lo, hi) == pytest.approx(expected)
    assert t_interval([3.0]) == (3.0, 3.0)  # one seed: a point, not an interval
    assert t_interval([1.0, np.nan, 3.0]) == pytest.approx(stats.t.interval(0.95, 1, 2.0, 1.0))


def test_step_overhead_whiskers_span_each_bars_iqr_and_mark_loaded_rows():
    from matplotlib.collections import LineCollection

    from sagan.report.cost_figures import step_overhead

    profile = pd.DataFrame(
        {
            "dataset": "digits", "arm": ["dcgan", "sagan"], "baseline": "dcgan",
            "precision": "fp32", "ms_per_step": [10.0, 14.0], "ms_q25": [9.0, 12.0],
            "ms_q75": [12.0, 15.0], "resolution": 16, "batch": 32, "device": "cpu",
            "loaded": [False, True],
            # per round: 1.2, 1.5, 1.17, 1.1, 2.5, 1.2, 1.3, 1.25, 1.05 x the baseline: median
            # +20%, where the ratio of the medians (14 / 10) says +40%
            "ms_repeats": ["10 10 12 10 8 10 10 8 20", "12 15 14 11 20 12 13 10 21"],
        }
    )  # fmt: skip
    fig = step_overhead(profile)
    ax = fig.axes[0]
    whiskers = [c for c in ax.collections if isinstance(c, LineCollection)]
    spans = sorted((seg[:, 1].min(), seg[:, 1].max()) for c in whiskers for seg in c.get_segments())
    assert spans == [(9.0, 12.0), (12.0, 15.0)]
    labels = [t.get_text() for t in ax.texts]
    # the claims' statistic: the median per-round overhead, its order-statistic interval
    # (the 2nd smallest and 2nd largest of 9 rounds: the +150% round sets no bound)
    assert labels == ["baseline", "+20%\n[+10, +50]†"]
    assert "IQR" in fig._suptitle.get_text() and "† machine loaded" in fig._suptitle.get_text()


def test_the_pareto_legend_names_the_arms_of_every_panel():
    from sagan.report.study_figures import quality_cost_pareto

    arms = {"digits": ["dcgan", "sagan"], "digits-place": ["dcgan", "place.g4", "place.g8"]}
    cells = [(d, a) for d, listed in arms.items() for a in listed]
    stats = pd.DataFrame(
        [
            {"dataset": d, "arm": a, "metric": "fd_domain", "train_images": 100, "size": "full"}
            | {"mean": 2.0 + i, "ci_lo": 1.5 + i, "ci_hi": 2.5 + i, "n": 3}
            for i, (d, a) in enumerate(cells)
        ]
    )
    profile = pd.DataFrame(
        [{"dataset": d, "arm": a, "precision": "fp32", "ms_per_step": 10.0 + i}
         for i, (d, a) in enumerate(cells)]
    )  # fmt: skip
    summary = stats.drop(columns="metric").assign(fd_domain=2.0)
    fig = quality_cost_pareto(stats, profile, summary)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"dcgan", "sagan", "place.g4", "place.g8"} <= set(labels)
    assert len(labels) == len(set(labels))  # each arm once, though dcgan is in both panels


def fd_runs(arms=("dcgan", "place.g4"), sizes=(500, 1397), fd=(0.1, 2.0, 0.2)) -> pd.DataFrame:
    """Seeds of FD per arm and size; the first arm's seeds spread so far that the lower end
    of a plain t-interval falls below 0."""
    rows = [
        {"study": "t", "dataset": "digits", "arm": a, "size": str(n), "train_images": n}
        | {"seed": s, "status": "done", "it_per_s": 9.0, "fd_domain": v + i}
        for i, a in enumerate(arms)
        for n in sizes
        for s, v in enumerate(fd)
    ]
    return pd.DataFrame(rows)


def lines_in(ax):
    """The data lines of a panel with more than one point (seaborn's lines, not markers)."""
    return [
        line for line in ax.lines if len(line.get_xdata()) > 1 and line.get_linestyle() != "None"
    ]


def test_two_sizes_draw_point_ranges_not_lines_and_three_draw_lines():
    two = quality_vs_size(fd_runs(sizes=(500, 1397)))
    (fd_panel,) = [ax for ax in size_panels(two) if ax.get_ylabel().startswith("FD")]
    assert not [ln for ln in lines_in(fd_panel) if ln.get_xdata()[0] != ln.get_xdata()[-1]]
    three = quality_vs_size(fd_runs(sizes=(100, 500, 1397)))
    (fd_panel,) = [ax for ax in size_panels(three) if ax.get_ylabel().startswith("FD")]
    assert len([ln for ln in lines_in(fd_panel) if len(ln.get_xdata()) == 3]) == 2  # per arm


def test_fd_whiskers_and_axes_stop_at_zero():
    from sagan.report.panels import errorbar

    runs = fd_runs()
    fig = quality_vs_size(runs)
    (fd_panel,) = [ax for ax in size_panels(fig) if ax.get_ylabel().startswith("FD")]
    assert fd_panel.get_ylim()[0] >= 0
    whiskers = [
        seg for c in fd_panel.collections if hasattr(c, "get_segments") for seg in c.get_segments()
    ]
    assert whiskers and min(seg[:, 1].min() for seg in whiskers) == pytest.approx(0.0)
    interval = errorbar(runs, ["arm"], lower=0.0)
    assert interval([0.1, 2.0, 0.2])[0] == 0.0  # seaborn's band: cut at 0 as well


def test_arms_get_distinct_colours_the_same_in_every_figure():
    from matplotlib.colors import to_hex

    from sagan.report.panels import arm_colors
    from sagan.report.study_figures import training_curves

    arms = [f"arm{i}" for i in range(8)]
    colors = arm_colors(arms)
    assert len(set(colors.values())) == 8
    assert arm_colors(reversed(arms)) == colors  # any listing order: one mapping
    runs = fd_runs(arms=("dcgan", "place.g4", "place.g8", "place.g16"))
    palette = arm_colors(["sagan", *runs["arm"]])  # the report's: one more arm
    size_fig = quality_vs_size(runs[runs["arm"] != "dcgan"], colors=palette)
    curves = training_curves(runs.assign(iteration=runs["seed"] * 10, r_t=0.1), colors=palette)

    def legend(fig):
        return {
            t.get_text(): to_hex(h.get_color())
            for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles, strict=True)
        }

    hexes = {a: to_hex(c) for a, c in palette.items()}
    assert legend(size_fig) == {a: hexes[a] for a in ("place.g16", "place.g4", "place.g8")}
    assert legend(curves)["place.g8"] == legend(size_fig)["place.g8"] == hexes["place.g8"]
    assert len(set(legend(curves).values())) == 4
