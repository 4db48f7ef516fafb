"""Attention maps of a trained generator, SAGAN-paper style (Zhang et al. 2019, Fig. 1): for a
few query points of a generated image, where the attention block looks, upsampled to the
image and overlaid."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from sagan.report.figures import TWO_COLUMN_WIDTH, paper_theme

QUERY_MARKERS = ("o", "s", "^")
QUERY_NAMES = ("○", "□", "△")


@torch.no_grad()
def generator_attention(
    run_dir: str | Path, root: str | Path = ".", images: int = 2, seed: int = 0
) -> dict:
    """Generate ``images`` images with the run's G and record, for 3 query points, the
    attention weights of G's first attention block that has ``attention_maps``.

    ``root``: the folder the run's relative paths (its dataset) are relative to.
    Returns images (B, H, W, C) in [0, 1], maps (B, Q, H, W) upsampled to the image, the
    query points in image pixels (Q, 2: row, col), and the block's feature-map side.
    """
    from sagan.config import load_run_config
    from sagan.data import load_prepared
    from sagan.metrics.evaluate import load_generator
    from sagan.models.latents import generate
    from sagan.registry import load_plugins

    run_dir, root = Path(run_dir), Path(root)
    cfg = load_run_config(run_dir / "config.yaml")
    load_plugins(cfg.plugins)
    meta = load_prepared(root / cfg.data.path).meta
    G, classes = load_generator(cfg, run_dir, meta)
    blocks = [m for m in G.modules() if hasattr(m, "attention_maps")]
    if not blocks:
        raise ValueError(f"{run_dir}: G has no attention block with attention_maps()")
    inputs = []
    hook = blocks[0].register_forward_hook(lambda _m, args, _out: inputs.append(args))
    x = generate(G, images, seed=seed, batch_size=images, num_classes=classes)
    hook.remove()
    feature, *labels = inputs[0]  # (B, C, h, w): what the block attended over (and its y)
    if x.dim() != 4 or feature.dim() != 4:  # video: maps over (t, h, w) are not drawn here
        raise ValueError(f"{run_dir}: G makes video; attention maps are drawn for images only")
    h, w = feature.shape[-2:]
    cells = [(h // 4, w // 4), (h // 2, w // 2), (3 * h // 4, w - 1 - w // 4)]
    queries = torch.tensor([r * w + c for r, c in cells])
    maps = blocks[0].attention_maps(feature, queries, *labels)  # (B, Q, h', w'), rows sum to 1
    side = x.shape[-1]
    maps = F.interpolate(maps.float(), size=(side, side), mode="bilinear", align_corners=False)
    scale = side / w
    points = np.array([((r + 0.5) * scale - 0.5, (c + 0.5) * scale - 0.5) for r, c in cells])
    pictures = ((x.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy()  # (B, H, W, C)
    return {"images": pictures, "maps": maps.numpy(), "points": points, "side": int(w)}


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
        side = f["side"]
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
