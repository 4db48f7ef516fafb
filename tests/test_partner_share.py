"""The share of a query's attention on the pairs probe's partner object, against the share
uniform attention puts there; the attention and sample figures say it, on hand-built maps."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from sagan.data import DataMeta  # noqa: E402
from sagan.data.probes import pairs, pairs_regions  # noqa: E402
from sagan.metrics.attention_maps import partner_share, partner_shares  # noqa: E402
from sagan.report.attention_figure import attention_maps_figure, partner_label  # noqa: E402

BOXES = np.array([[0, 2, 0, 2], [0, 2, 2, 4]])  # a 2x4 image: left and right 2x2 halves


def test_the_share_is_the_partner_boxs_mass_and_uniform_gives_its_area():
    attention = np.array([[1.0, 0, 3, 0], [0, 0, 0, 4]])  # (2, 4), any scale
    assert partner_share(attention, (0.5, 0.5), BOXES) == pytest.approx((7 / 8, 4 / 8))
    assert partner_share(attention, (1.0, 3.0), BOXES) == pytest.approx((1 / 8, 4 / 8))
    uniform = np.ones((2, 4))
    share, area = partner_share(uniform, (0, 0), BOXES)
    assert share == pytest.approx(area)
    off = np.array([[0, 0, 0, 0, 1, 1]]), np.array([[0, 1, 0, 2], [0, 1, 4, 6]])
    assert partner_share(np.ones((1, 6)), (0, 2.5), off[1]) is None  # between the boxes


def test_every_pairs_object_lies_in_its_box():
    raw = pairs(count=50, seed=3, resolution=32)
    boxes = pairs_regions(32)
    outside = np.ones((32, 32), bool)
    for r0, r1, c0, c1 in boxes:
        outside[r0:r1, c0:c1] = False
    drawn = np.abs(raw.images.astype(int) - 128).max(-1) > 0  # (N, 32, 32)
    assert not drawn[:, outside].any() and drawn[:, ~outside].any()


def test_the_figure_says_the_share_or_that_there_is_no_layout():
    maps = np.ones((1, 2, 4, 4)) / 16
    maps[0, 0, :, 2:] = 3 / 32  # query 0 on the left: 3/4 of its mass on the right half
    maps[0, 0, :, :2] = 1 / 32
    boxes = np.array([[0, 4, 0, 2], [0, 4, 2, 4]])
    points = np.array([(1.0, 0.5), (1.0, 2.5)])
    shares, area = partner_shares(maps, points, boxes)
    assert shares[0, 0] == pytest.approx(0.75) and area[0] == pytest.approx(0.5)
    found = {"images": np.zeros((1, 4, 4, 3)), "maps": maps, "points": points, "side": 4}
    with_layout = {**found, "partner_share": shares, "partner_expected": area}
    assert partner_label(with_layout, 0, 0) == "on partner's box 75%\n(its area: 50%)"
    assert partner_label(found, 0, 1) == "no partner layout"
    fig = attention_maps_figure({"pairs · a": with_layout})
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert "on partner's box 75%\n(its area: 50%)" in labels
    assert any("uniform" in ax.get_ylabel() for ax in fig.axes)  # the colour bar's label


def test_the_sample_figure_puts_real_images_above_the_arms(tmp_path):
    import matplotlib.pyplot as plt
    import pandas as pd

    from sagan.report.figures import sample_grids
    from sagan.report.real_grid import real_grid

    images = torch.randint(0, 255, (10, 1, 4, 4), dtype=torch.uint8)
    data = {"images": images, "labels": torch.zeros(10, dtype=torch.int64),
            "train_order": torch.arange(6), "heldout": torch.arange(6, 10),
            "meta": DataMeta(4, 1, 1, dataset="d").to_dict(), "extra": {}}  # fmt: skip
    torch.save(data, tmp_path / "images.pt")
    like = np.ones((2 + 2 * 6, 2 + 2 * 6))  # a 2 x 2 grid of 4 px images
    grid, split = real_grid(tmp_path / "images.pt", like)
    assert split == "held-out" and grid.shape == like.shape
    assert grid[2:6, 2:6] == pytest.approx(images[6, 0].numpy() / 255)  # the first held-out
    run = tmp_path / "run"
    run.mkdir()
    plt.imsave(run / "samples.png", like, cmap="gray")
    summary = pd.DataFrame(
        [{"dataset": "d", "arm": "v", "status": "done", "train_images": 6, "seed": 0,
          "size": "full", "run_dir": str(run)}]
    )  # fmt: skip
    fig = sample_grids(summary, {"d": (grid, split)})
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["d · real (held-out)", "d · v\nn=full, seed 0"]
