"""The training loop: hinge loss, Adam with two time-scales, logs, sample grids, checkpoint."""

from __future__ import annotations

import contextlib
import csv
import io
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from sagan.config import RunConfig, save_run_config, to_dict
from sagan.data import load_prepared
from sagan.images import save_grid, to_model_range
from sagan.io import atomic_torch_save, atomic_write_bytes, atomic_write_text
from sagan.models.backbone import models_for_run, run_classes
from sagan.models.latents import sample_latents
from sagan.registry import load_plugins
from sagan.train.losses import hinge_d, hinge_g
from sagan.train.overfit import OverfitMonitor
from sagan.train.precision import Precision
from sagan.train.status import write_status

SAMPLE_GRID = 64  # images in each sample grid (8 x 8)


@dataclass
class Models:
    G: nn.Module
    D: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    precision: Precision


def build(cfg: RunConfig, meta: dict, device: torch.device) -> Models:
    """G, D and their optimisers; ``meta`` is the prepared dataset's."""
    torch.manual_seed(cfg.train.seed)
    G, D = models_for_run(cfg, meta)
    t = cfg.train
    layout = torch.channels_last if t.channels_last else torch.contiguous_format
    G, D = G.to(device, memory_format=layout), D.to(device, memory_format=layout)
    return Models(
        G,
        D,
        torch.optim.Adam(G.parameters(), lr=t.lr_g, betas=t.betas, fused=True),
        torch.optim.Adam(D.parameters(), lr=t.lr_d, betas=t.betas, fused=True),
        Precision(t.precision, device),
    )


def batches(
    images: Tensor,
    labels: Tensor | None,
    batch_size: int,
    seed: int,
    layout: torch.memory_format = torch.contiguous_format,
):
    """Endless shuffled (images in [-1, 1], labels or None) batches; order fixed by the seed."""
    rng = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(len(images), generator=rng)
        for start in range(0, len(perm) - batch_size + 1, batch_size):
            idx = perm[start : start + batch_size].to(images.device)
            real = to_model_range(images[idx]).contiguous(memory_format=layout)
            yield real, (labels[idx] if labels is not None else None)


def d_step(
    m: Models, real: Tensor, y_real: Tensor | None, z: Tensor, y_fake: Tensor | None
) -> dict[str, Tensor]:
    """One D update on real and fake; statistics stay on the device (no sync per step)."""
    with m.precision.autocast():
        with torch.no_grad():  # fakes for D need no graph through G
            fake = m.G(z, y_fake)
        real_logits, fake_logits = m.D(real, y_real).float(), m.D(fake, y_fake).float()
        loss = hinge_d(real_logits, fake_logits)
    m.precision.step(loss, m.opt_d)
    return {
        "loss_d": loss.detach(),
        "d_real": real_logits.detach().mean(),
        "d_fake": fake_logits.detach().mean(),
        "real_logits": real_logits.detach(),
    }


def g_step(m: Models, z: Tensor, y: Tensor | None) -> dict[str, Tensor]:
    """One G update. D's weights are frozen for it: G's loss needs gradients through D's
    activations only, so D's weight gradients (half of its backward) are never computed."""
    with frozen(m.D):
        with m.precision.autocast():
            loss = hinge_g(m.D(m.G(z, y), y).float())
        m.precision.step(loss, m.opt_g)
    return {"loss_g": loss.detach()}


@contextlib.contextmanager
def frozen(model: nn.Module) -> Iterator[None]:
    """requires_grad off for the model's trainable parameters, restored on exit."""
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def gammas(m: Models) -> dict[str, float]:
    """Every attention layer's residual weight gamma, named by where it sits."""
    out = {}
    for net, model in (("G", m.G), ("D", m.D)):
        for name, p in model.named_parameters():
            if name.endswith("gamma") and p.numel() == 1:
                out[f"gamma:{net}.{name.removesuffix('.gamma')}"] = p.item()
    return out


def write_log(rows: list[dict], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def train(
    cfg: RunConfig, run_dir: str | Path, *, device: str = "cpu", progress: bool = True
) -> dict:
    """Train one run into ``run_dir``; returns the final status. Failures are recorded too."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    save_run_config(cfg, run_dir / "config.yaml")
    write_status(run_dir, "running")
    try:
        return _train(cfg, run_dir, torch.device(device), progress)
    except Exception as err:
        write_status(run_dir, "failed", reason=f"{type(err).__name__}: {err}")
        raise


def _train(cfg: RunConfig, run_dir: Path, device: torch.device, progress: bool) -> dict:
    load_plugins(cfg.plugins)
    data = load_prepared(cfg.data.path)
    subset = data.subset(cfg.data.size)
    images = data.images[subset].to(device)  # the whole subset in memory: no per-step decode
    classes = run_classes(cfg, data.meta)
    labels = data.labels[subset].to(device) if classes else None
    m = build(cfg, data.meta, device)
    t = cfg.train
    layout = torch.channels_last if t.channels_last else torch.contiguous_format
    real_batches = batches(images, labels, min(t.batch_size, len(images)), t.seed, layout)
    grid = _grid_latents(cfg, classes, device)
    monitor = OverfitMonitor(
        m.D,
        _fixed_batch(data, subset, t.batch_size, classes, device),
        _fixed_batch(data, data.heldout, t.batch_size, classes, device),
    )
    rows: list[dict] = []
    bar = tqdm(
        range(1, t.iterations + 1),
        desc=f"{cfg.variant} n={cfg.data.size}",
        disable=not progress,
        mininterval=1 if sys.stderr.isatty() else 30,
    )
    start = time.perf_counter()
    for it in bar:
        real, y_real = next(real_batches)
        stats = d_step(
            m, real, y_real, *sample_latents(t.batch_size, cfg.model.z_dim, classes, device=device)
        )
        stats |= g_step(m, *sample_latents(t.batch_size, cfg.model.z_dim, classes, device=device))
        monitor.observe(stats.pop("real_logits"))
        if it % t.log_every == 0 or it == t.iterations:
            rows.append(_log_row(m, it, time.perf_counter() - start, rows, stats | monitor.row()))
            bar.set_postfix(
                loss_d=f"{rows[-1]['loss_d']:.3f}",
                loss_g=f"{rows[-1]['loss_g']:.3f}",
                refresh=False,
            )  # redraw at tqdm's own interval only
        if it % t.sample_every == 0 or it == t.iterations:
            _snapshot(m, grid, rows, run_dir, it)
    return _finish(cfg, m, run_dir, time.perf_counter() - start, len(images), rows[-1])


def _grid_latents(cfg: RunConfig, classes: int, device: torch.device) -> tuple:
    """Fixed latents for the sample grids (and classes cycling 0, 1, ... if conditional)."""
    rng = torch.Generator().manual_seed(cfg.train.seed)
    z, _ = sample_latents(SAMPLE_GRID, cfg.model.z_dim, generator=rng, device=device)
    return z, (torch.arange(SAMPLE_GRID, device=device) % classes if classes else None)


def _fixed_batch(data, indices: Tensor, size: int, classes: int, device: torch.device) -> tuple:
    """The first ``size`` of ``indices`` as D's input: images in [-1, 1] and labels or None."""
    idx = indices[:size]
    labels = data.labels[idx].to(device) if classes else None
    return to_model_range(data.images[idx].to(device)), labels


def _log_row(m: Models, it: int, seconds: float, rows: list[dict], stats: dict) -> dict:
    """One CSV row; it_per_s is over the interval since the previous row (sync included)."""
    last_it, last_s = (rows[-1]["iteration"], rows[-1]["seconds"]) if rows else (0, 0.0)
    return {
        "iteration": it,
        "seconds": round(seconds, 3),
        "it_per_s": round((it - last_it) / max(seconds - last_s, 1e-9), 3),
        **{k: v.item() if isinstance(v, Tensor) else v for k, v in stats.items()},
        **gammas(m),
    }


def _snapshot(m: Models, latents: tuple, rows: list[dict], run_dir: Path, it: int) -> None:
    """Sample grid from the fixed latents (and classes), and the log so far (both atomic)."""
    m.G.eval()
    with torch.no_grad():
        save_grid(m.G(*latents), run_dir / "samples" / f"iter_{it:06d}.png")
    m.G.train()
    if rows:
        write_log(rows, run_dir / "log.csv")


def _finish(
    cfg: RunConfig, m: Models, run_dir: Path, seconds: float, train_images: int, last: dict
) -> dict:
    """The final grid under a fixed name, the checkpoint, and status 'done' (with the last
    logging interval's overfitting signals)."""
    t = cfg.train
    final_grid = run_dir / "samples" / f"iter_{t.iterations:06d}.png"
    atomic_write_bytes(run_dir / "samples.png", final_grid.read_bytes())
    state = {
        "G": m.G.state_dict(),
        "D": m.D.state_dict(),
        "opt_g": m.opt_g.state_dict(),
        "opt_d": m.opt_d.state_dict(),
        "iteration": t.iterations,
        "config": to_dict(cfg),
    }
    atomic_torch_save(run_dir / "checkpoint.pt", state)
    return write_status(
        run_dir,
        "done",
        iterations=t.iterations,
        train_seconds=round(seconds, 3),
        it_per_s=round(t.iterations / seconds, 3),
        train_images=train_images,
        params_g=sum(p.numel() for p in m.G.parameters()),
        params_d=sum(p.numel() for p in m.D.parameters()),
        r_t=last["r_t"],
        d_gap=last["d_gap"],
    )
