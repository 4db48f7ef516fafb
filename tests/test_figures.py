"""Figures drawn from a hand-made summary table."""

import numpy as np
import pandas as pd
import torch
from PIL import Image

from sagan.images import save_grid
from sagan.report.figures import quality_vs_size, sample_grids


def summary(tmp_path) -> pd.DataFrame:
    rows = []
    for dataset, channels in (("digits", 1), ("pairs", 3)):
        for variant in ("dcgan", "sagan"):
            for size, n in (("100", 100), ("full", 400)):
                for seed in (0, 1):
                    run = tmp_path / dataset / variant / size / str(seed)
                    save_grid(torch.rand(4, channels, 8, 8) * 2 - 1, run / "samples.png")
                    rows.append(
                        {
                            "study": "t",
                            "dataset": dataset,
                            "arm": variant,
                            "size": size,
                            "seed": seed,
                            "train_images": n,
                            "status": "done",
                            "it_per_s": 10.0,
                            "fd_domain": np.random.rand(),
                            "kid_domain": np.random.rand(),
                            "fd_domain_gap": 0.1,
                            "pairs_agreement": np.random.rand() if dataset == "pairs" else np.nan,
                            "run_dir": str(run),
                        }
                    )
    return pd.DataFrame(rows)


def test_sample_grids_show_grey_runs_in_grey_and_colour_runs_in_colour(tmp_path):
    fig = sample_grids(summary(tmp_path))
    images = {ax.get_title().split("\n")[0]: ax.images[0] for ax in fig.axes if ax.images}
    assert set(images) == {"digits · dcgan", "digits · sagan", "pairs · dcgan", "pairs · sagan"}
    assert images["digits · dcgan"].get_cmap().name == "gray"  # not a false-colour map
    assert images["pairs · dcgan"].get_array().ndim == 3
    assert Image.open(tmp_path / "digits/dcgan/full/0/samples.png").mode == "L"


def test_quality_figure_has_a_row_per_dataset_and_the_probe_only_where_it_exists(tmp_path):
    fig = quality_vs_size(summary(tmp_path))
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_visible() and ax.axison]
    assert labels.count("FD (domain) ↓") == 2 and labels.count("pair agreement ↑") == 1
    assert not any("gap" in label for label in labels)  # headline metrics only
