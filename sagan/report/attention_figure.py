"""Attention maps of a trained generator, SAGAN-paper style (Zhang et al. 2019, Fig. 1): for a
few query points of a generated image, where the attention block looks, upsampled to the
image and overlaid. It draws the arrays of ``sagan.metrics.attention_maps``; it runs no model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from sagan.report.figures import TWO_COLUMN_WIDTH, paper_theme

QUERY_MARKERS = ("o", "s", "^")
QUERY_NAMES = ("○", "□", "△")


def partner_label(f: dict, image: int, query: int) -> str:
    """Under a map: its share on the box the partner object lies in, against that box's
    share of the image (what uniform attention puts there); or why there is none."""
    if "partner_share" not in f:
        return "no partner layout"
    share = float(f["partner_share"][image, query])
    if np.isnan(share):
        return "query off both objects' boxes"
    return f"on partner's box {share:.0%}\n(its area: {float(f['partner_expected'][query]):.0%})"


def attention_maps_figure(found: dict[str, dict]) -> plt.Figure:
    """A row per (title, generated image): the image with its query points, then each query's
    attention map over the image, on one colour scale (the bar: attention weight of a key)."""
    paper_theme()
    rows = [(title, i) for title, f in found.items() for i in range(len(f["images"]))]
    queries = len(next(iter(found.values()))["points"])
    fig, axes = plt.subplots(
        len(rows),
        queries + 1,
        figsize=(TWO_COLUMN_WIDTH * 0.62, 1.15 * len(rows) + 0.6),
        squeeze=False,
    )
    # one scale for every map, as a multiple of uniform attention's weight (a map's mean:
    # one query's weights sum to 1 over the keys), so maps over 4x4 and 8x8 keys compare
    ratio = {t: f["maps"] / f["maps"].mean(axis=(-2, -1), keepdims=True) for t, f in found.items()}
    top = max(float(r.max()) for r in ratio.values())
    heat = None
    for r, (title, i) in enumerate(rows):
        f = found[title]
        image = f["images"][i]
        grey = image.shape[-1] == 1
        shown = image[..., 0] if grey else image
        pixels = {
            "cmap": "gray" if grey else None,
            "vmin": 0,
            "vmax": 1,
            "interpolation": "nearest",
        }
        axes[r][0].imshow(shown, **pixels)
        for q, (y, x) in enumerate(f["points"]):
            for ax in (axes[r][0], axes[r][q + 1]):
                ax.plot(x, y, QUERY_MARKERS[q % 3], ms=5, mfc="none", mec="red", mew=1.2)
            axes[r][q + 1].imshow(shown, **pixels)
            heat = axes[r][q + 1].imshow(
                ratio[title][i, q], cmap="magma", alpha=0.6, vmin=0, vmax=top
            )
            axes[r][q + 1].set_xlabel(partner_label(f, i, q), fontsize=5.5, labelpad=2)
        name = title.replace(" · ", "\n")  # a long study name would run into the next row
        side = int(f["side"])
        axes[r][0].set_ylabel(f"{name}\nimage {i + 1}, {side}x{side}", fontsize=6)
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
    axes[0][0].set_title("generated", fontsize=7)
    for q in range(queries):
        axes[0][q + 1].set_title(f"query {QUERY_NAMES[q % 3]}", fontsize=7)
    # each row's map side is in its label: a placement sweep puts G's block at several sides
    fig.suptitle("G's attention for three query points (the block's map, upsampled)", fontsize=8)
    fig.tight_layout()
    fig.subplots_adjust(right=0.86)
    bar = fig.colorbar(heat, cax=fig.add_axes((0.89, 0.2, 0.025, 0.6)))
    bar.set_label(
        "attention weight of a key / uniform's\n(1/keys; dashed: 1 = uniform)", fontsize=6
    )
    bar.ax.tick_params(labelsize=5.5)
    bar.ax.axhline(1.0, color="white", lw=1.2, ls="--")
    return fig
