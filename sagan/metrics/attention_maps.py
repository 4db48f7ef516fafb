"""Where a trained generator's attention looks, SAGAN-paper style (Zhang et al. 2019, Fig. 1):
for a few query points of generated images, the weights of G's first attention block that
gives maps, upsampled to the image. Saved as arrays (``attention_maps.npz`` of the run
folder), so the report draws them without loading a model."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sagan.data.kinds import IMAGE
from sagan.data.probes import OBJECT_LAYOUTS
from sagan.errors import DataError
from sagan.io import atomic_write_bytes
from sagan.run_folder import CONFIG, read_status

IMAGES = 2  # generated images per run
SEED = 0  # of their latents: two calls on one checkpoint give the same maps


def partner_share(
    attention: np.ndarray, point: tuple[float, float], regions: np.ndarray
) -> tuple[float, float] | None:
    """Of one query's attention ``attention`` (H, W, any scale; e.g. upsampled to the image),
    the share that lands on the partner object when the query at ``point`` (row, col in
    pixels) sits on one of two objects whose boxes are ``regions`` ((2, 4): row0, row1, col0,
    col1, ends exclusive), with the share uniform attention would put there (the partner
    box's share of the image's area). None when the query sits on neither object."""
    row, col = point
    on = [k for k, (r0, r1, c0, c1) in enumerate(regions) if r0 <= row < r1 and c0 <= col < c1]
    if len(regions) != 2 or len(on) != 1:
        return None
    r0, r1, c0, c1 = regions[1 - on[0]]
    share = float(attention[r0:r1, c0:c1].sum() / attention.sum())
    return share, (r1 - r0) * (c1 - c0) / attention.size


def partner_shares(
    maps: np.ndarray, points: np.ndarray, regions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``partner_share`` of every map (B, Q, H, W): the shares (B, Q) and the area shares
    (Q,), NaN for a query on neither object."""
    shares = np.full(maps.shape[:2], np.nan)
    expected = np.full(maps.shape[1], np.nan)
    for q, point in enumerate(points):
        for b in range(len(maps)):
            if (found := partner_share(maps[b, q], tuple(point), regions)) is not None:
                shares[b, q], expected[q] = found
    return shares, expected


class NoMaps(ValueError):
    """The run's G has no maps to give (no such block, video, a diverged run)."""


@torch.no_grad()
def generator_attention(
    run_dir: str | Path, images: int = IMAGES, seed: int = SEED, device: str = "cpu"
) -> dict[str, np.ndarray]:
    """Generate ``images`` images with the run's G and record, for 3 query points, the
    attention weights of G's first attention block that has ``attention_maps``.

    Returns images (B, H, W, C) in [0, 1], maps (B, Q, H, W) upsampled to the image, the
    query points in image pixels (Q, 2: row, col), and the block's feature-map side."""
    from sagan.config import load_run_config
    from sagan.data import load_prepared
    from sagan.metrics.evaluate import load_generator
    from sagan.models.latents import generate
    from sagan.registry import load_plugins

    run_dir = Path(run_dir)
    if read_status(run_dir)["state"] == "diverged":
        raise NoMaps(f"{run_dir}: the run diverged; its weights are not a trained G")
    cfg = load_run_config(run_dir / CONFIG)
    load_plugins(cfg.plugins)
    data = load_prepared(cfg.data.path)
    if data.kind is not IMAGE:  # maps over (t, h, w) are not drawn
        raise NoMaps(f"{run_dir}: G makes video; attention maps are drawn for images only")
    G, classes = load_generator(cfg, run_dir, data.meta, device)
    blocks = [m for m in G.modules() if hasattr(m, "attention_maps")]
    if not blocks:
        raise NoMaps(f"{run_dir}: G has no attention block with attention_maps()")
    inputs = []
    hook = blocks[0].register_forward_hook(lambda _m, args, _out: inputs.append(args))
    x = generate(G, images, seed=seed, batch_size=images, num_classes=classes, device=device)
    hook.remove()
    feature, *labels = inputs[0]  # (B, C, h, w): what the block attended over (and its y)
    h, w = feature.shape[-2:]
    cells = [(h // 4, w // 4), (h // 2, w // 2), (3 * h // 4, w - 1 - w // 4)]
    queries = torch.tensor([r * w + c for r, c in cells], device=feature.device)
    maps = blocks[0].attention_maps(feature, queries, *labels)  # (B, Q, h', w'), rows sum to 1
    side = x.shape[-1]
    maps = F.interpolate(maps.float(), size=(side, side), mode="bilinear", align_corners=False)
    scale = side / w
    points = np.array([((r + 0.5) * scale - 0.5, (c + 0.5) * scale - 0.5) for r, c in cells])
    pictures = ((x.clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).numpy()  # (B, H, W, C)
    found = {
        "images": pictures.astype(np.float32),
        "maps": maps.cpu().numpy(),
        "points": points,
        "side": np.array(int(w)),
    }
    layout = OBJECT_LAYOUTS.get(cfg.data.source or cfg.data.dataset)
    if layout is not None:  # where its objects sit: the share of attention on the partner
        regions = layout(side)
        shares, expected = partner_shares(found["maps"], points, regions)
        found |= {"regions": regions, "partner_share": shares, "partner_expected": expected}
    return found


def write_attention_maps(run_dir: str | Path, out: str | Path, device: str = "cpu") -> str:
    """The run's maps into ``out`` (.npz, atomically); a run whose G gives none gets a file
    that says why, so the report skips it. Returns what was written, in one line."""
    try:
        arrays = generator_attention(run_dir, device=device)
        said = f"{out}: maps of {len(arrays['maps'])} images at side {int(arrays['side'])}"
    except NoMaps as err:
        arrays, said = {"none": np.array(str(err))}, f"{out}: no maps ({err})"
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(out, buf.getvalue())
    return said


def read_attention_maps(path: str | Path) -> dict[str, np.ndarray] | None:
    """The arrays ``write_attention_maps`` saved; None for a run whose G gives none."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except Exception as err:  # not a zip, truncated, a pickled array: all say "corrupt"
        raise DataError(
            f"attention maps {path} are unreadable ({err}); delete the file and rerun its rule "
            "(or sagan attention-maps RUN_DIR --out it)"
        ) from err
    return None if "none" in arrays else arrays
