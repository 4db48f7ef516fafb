"""Attention maps of a trained generator, SAGAN-paper style (Zhang et al. 2019, Fig. 1): for a
few query points of a generated image, where the attention block looks, upsampled to the
image and overlaid. It draws the arrays of ``sagan.metrics.attention_maps``; it runs no model."""

from __future__ import annotations

import matplotlib.pyplot as plt

from sagan.report.figures import TWO_COLUMN_WIDTH, paper_theme

QUERY_MARKERS = ("o", "s", "^")
QUERY_NAMES = ("○", "□", "△")


def attention_maps_figure(found: dict[str, dict]) -> plt.Figure:
    """A row per (title, generated image): the image with its query points, then each query's
    attention map over the image."""
    paper_theme()
    rows = [(title, i) for title, f in found.items() for i in range(len(f["images"]))]
    queries = len(next(iter(found.values()))["points"])
    fig, axes = plt.subplots(
        len(rows),
        queries + 1,
        figsize=(TWO_COLUMN_WIDTH * 0.55, 0.95 * len(rows) + 0.5),
        squeeze=False,
    )
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
            axes[r][q + 1].imshow(f["maps"][i, q], cmap="magma", alpha=0.6)
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
    return fig
