"""The training loop: GAN losses, Adam with two time-scales, EMA, logs, sample grids, and
resumable checkpoints; NaN/Inf ends a run as ``diverged``, a result rather than a crash."""

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
from sagan.data import DataMeta, load_prepared
from sagan.images import save_grid, to_model_range
from sagan.io import atomic_torch_save, atomic_write_bytes, atomic_write_text
from sagan.metrics.during import DuringScorer, check_during, log_column, write_during
from sagan.models.backbone import models_for_run, run_classes
from sagan.models.latents import sample_latents
from sagan.registry import load_plugins
from sagan.run_folder import (
    CHECKPOINT,
    CONFIG,
    LOG,
    SAMPLE_GRIDS,
    SAMPLES,
    write_status,
)
from sagan.streams import DATA_ORDER, LATENTS, stream_seed
from sagan.streams import generator as stream_generator
from sagan.train.checkpoint import (
    check_resumable,
    checkpoint_paths,
    load_latest,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from sagan.train.checks import check_train, pinned_code_note
from sagan.train.ema import EMA
from sagan.train.live_log import LiveLog, open_live_log, writer_class
from sagan.train.lock import run_lock
from sagan.train.losses import LOSSES, gradient_penalty
from sagan.train.overfit import OverfitMonitor
from sagan.train.precision import Precision
from sagan.train.progressive import check_schedule, growth, set_growth
from sagan.train.sampler import RealBatches

SAMPLE_GRID = 64  # images in each sample grid (8 x 8)


@dataclass
class Models:
    G: nn.Module
    D: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    precision: Precision
    loss: str = "hinge"
    gp_weight: float = 10.0
    ema: EMA | None = None
    latents: torch.Generator | None = None  # training latents' stream (None: global RNG)

    @property
    def sampler_G(self) -> nn.Module:
        """The G that samples and is evaluated: the EMA when there is one."""
        return self.ema.model if self.ema is not None else self.G


def memory_layout(channels_last: bool, meta: DataMeta) -> torch.memory_format:
    """NHWC (NDHWC for video clips) when ``channels_last``, else the default layout."""
    if not channels_last:
        return torch.contiguous_format
    return torch.channels_last_3d if meta.frames else torch.channels_last


def place(net: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    """``net`` on ``device``; with ``channels_last``, 4D weights NHWC and 5D ones NDHWC
    (``Module.to(memory_format=...)`` takes one format for all, and a video model has both)."""
    net = net.to(device)
    if channels_last:
        formats = {4: torch.channels_last, 5: torch.channels_last_3d}
        for p in net.parameters():
            if p.dim() in formats:
                p.data = p.data.contiguous(memory_format=formats[p.dim()])
    return net


def build(cfg: RunConfig, meta: DataMeta, device: torch.device) -> Models:
    """G, D and their optimisers; ``meta`` is the prepared dataset's."""
    check_train(cfg.train)
    t = cfg.train
    torch.manual_seed(t.seed)  # paired: anything left on the global generator stays seeded
    G, D = models_for_run(cfg, meta)
    G, D = place(G, device, t.channels_last), place(D, device, t.channels_last)
    m = Models(
        G,
        D,
        torch.optim.Adam(G.parameters(), lr=t.lr_g, betas=t.betas, fused=True),
        torch.optim.Adam(D.parameters(), lr=t.lr_d, betas=t.betas, fused=True),
        Precision(t.precision, device),
        t.loss,
        t.gp_weight,
        EMA(G, t.ema_decay, t.ema_start) if t.ema_decay > 0 else None,  # before compiling
        stream_generator(t.seed, LATENTS) if t.streams == "paired" else None,
    )
    if t.compile:  # Module.compile: the same objects, so checkpoints see no wrapper
        G.compile()
        D.compile()
    return m


def d_step(
    m: Models, real: Tensor, y_real: Tensor | None, z: Tensor, y_fake: Tensor | None
) -> dict[str, Tensor]:
    """One D update on real and fake; statistics stay on the device (no sync per step).

    Real and fake go through D as one batch (as BigGAN-PyTorch does): one forward, one
    spectral-norm power iteration, and the fusion torch.compile needs (two forwards that both
    update the norm's vectors in place break a compiled backward). D has no batch norm, so
    each logit is what a separate pass would give."""
    with m.precision.autocast():
        with torch.no_grad():  # fakes for D need no graph through G
            fake = m.G(z, y_fake)
        y = torch.cat([y_real, y_fake]) if y_real is not None else None
        logits = m.D(torch.cat([real, fake.to(real.dtype)]), y).float()
        real_logits, fake_logits = logits.split([len(real), len(fake)])
        loss = LOSSES[m.loss].discriminator(real_logits, fake_logits)
    if m.loss == "wgan-gp":  # fp32: the penalty's second-order graph is precision-sensitive
        loss = loss + m.gp_weight * gradient_penalty(m.D, real, fake, y_real)
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
            loss = LOSSES[m.loss].generator(m.D(m.G(z, y), y).float())
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
    # every row's columns: a resumed run may log one its first rows lacked (evaluation.during)
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    state_dir: str | Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict:
    """Train one run: its outputs (config, checkpoint.pt, log.csv, samples.png, status) go to
    ``run_dir``, its resumable state (checkpoints/, samples/) to ``state_dir`` (default
    ``run_dir``). Returns the final status.

    It goes on from the newest valid checkpoint at or before ``train.iterations``: a killed
    run resumes, a longer run continues, and a finished one re-emits its outputs from its
    final checkpoint without training. A second trainer on the same state is refused; a
    checkpoint of another config is refused before anything in the folder is touched."""
    run_dir = Path(run_dir)
    state = Path(state_dir) if state_dir is not None else run_dir
    events = writer_class(cfg.train.tensorboard)  # before the lock: a missing extra fails early
    with run_lock(state):
        # on the CPU: RNG states must stay there
        resume = load_latest(state, at_most=cfg.train.iterations)
        if resume is not None:
            check_resumable(resume["config"], to_dict(cfg), state)
        run_dir.mkdir(parents=True, exist_ok=True)
        save_run_config(cfg, run_dir / CONFIG)
        write_status(run_dir, "running", resumed_from=resume["iteration"] if resume else None)
        first = resume["iteration"] + 1 if resume is not None else 1
        if first <= cfg.train.iterations and (note := pinned_code_note(cfg)):
            print(f"warning: {note}", file=sys.stderr)
            write_status(run_dir, "running", resumed_from=first - 1, code_note=note)
        fd_column = log_column(cfg.eval) if cfg.eval.during else None
        try:
            # a finished run only re-emits its outputs: no event file for it
            with open_live_log(
                events if first <= cfg.train.iterations else None, state, first, fd_column
            ) as live:
                return _train(cfg, run_dir, state, torch.device(device), progress, resume, live)
        except Exception as err:
            write_status(run_dir, "failed", reason=f"{type(err).__name__}: {err}")
            raise


def _train(
    cfg: RunConfig,
    run_dir: Path,
    state_dir: Path,
    device: torch.device,
    progress: bool,
    resume: dict | None,
    live: LiveLog,
) -> dict:
    load_plugins(cfg.plugins)
    data = load_prepared(cfg.data.path)
    subset = data.subset(cfg.data.size)
    images = data.images[subset].to(device)  # the whole subset in memory: no per-step decode
    classes = run_classes(cfg, data.meta)
    labels = data.labels[subset].to(device) if classes else None
    t = cfg.train
    size = data.meta.resolution
    check_schedule(t.progressive, size, t.iterations)
    check_during(cfg.eval, t.iterations)
    # before build, which seeds: loading the extractor draws its initial weights
    during = DuringScorer(cfg.eval, classes, device, data.kind.name) if cfg.eval.during else None
    m = build(cfg, data.meta, device)
    layout = memory_layout(t.channels_last, data.meta)
    order_seed = stream_seed(t.seed, DATA_ORDER) if t.streams == "paired" else t.seed
    real_batches = RealBatches(images, labels, min(t.batch_size, len(images)), order_seed, layout)
    grid = _grid_latents(cfg, classes, device)
    monitor = OverfitMonitor(
        m.D,
        _fixed_batch(data, subset, t.batch_size, classes, device),
        _fixed_batch(data, data.heldout, t.batch_size, classes, device),
    )
    rows: list[dict] = []
    first, seconds_before = 1, 0.0
    if resume is not None:
        _restore(m, real_batches, monitor, resume)
        rows, first, seconds_before = resume["log"], resume["iteration"] + 1, resume["seconds"]
    bar = tqdm(
        range(first, t.iterations + 1),
        desc=f"{cfg.variant} n={cfg.data.size}",
        initial=first - 1,
        total=t.iterations,
        disable=not progress,
        mininterval=1 if sys.stderr.isatty() else 30,
    )
    start = time.perf_counter() - seconds_before
    nonfinite = torch.zeros((), dtype=torch.bool, device=device)  # no sync per step
    growing = [m.G, m.D] + ([m.ema.model] if m.ema is not None else [])
    for it in bar:
        set_growth(growing, t.progressive, it, size)
        for _ in range(t.n_dis):
            real, y_real = next(real_batches)
            stats = d_step(m, real, y_real, *_latents(m, cfg, classes, device))
        stats |= g_step(m, *_latents(m, cfg, classes, device))
        if m.ema is not None:
            m.ema.update(m.G, it)
        nonfinite |= ~(stats["loss_d"].isfinite() & stats["loss_g"].isfinite())
        monitor.observe(stats.pop("real_logits"))
        checkpoint_due = it % t.checkpoint_every == 0 or it == t.iterations
        scored = during is not None and during.due(it)
        if it % t.log_every == 0 or checkpoint_due or scored:
            if nonfinite.item() or not _weights_finite(m):
                return _diverged(m, rows, run_dir, state_dir, it, time.perf_counter() - start)
            row = _log_row(m, it, time.perf_counter() - start, rows, stats | monitor.row())
            if during is not None:
                scoring = time.perf_counter()
                row[log_column(cfg.eval)] = during.score(m.sampler_G) if scored else None
                start += time.perf_counter() - scoring  # scoring is not training time
            if t.progressive is not None:
                row["grow_side"], row["grow_alpha"] = growth(t.progressive, it, size)
            rows.append(row)
            live.row(row)
            bar.set_postfix(
                loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}", refresh=False
            )  # redraw at tqdm's own interval only
        if it % t.sample_every == 0 or it == t.iterations:
            _snapshot(m, grid, rows, run_dir, state_dir, it)
            live.grid(_grid_path(state_dir, it), it)
        if checkpoint_due:
            state = _state(cfg, m, real_batches, monitor, rows, it, time.perf_counter() - start)
            final = it == t.iterations
            save_checkpoint(state_dir, it, state, keep=t.keep_checkpoints, final=final)
    if first > t.iterations:  # resumed at its end: re-emit the outputs, train nothing
        _snapshot(m, grid, rows, run_dir, state_dir, t.iterations)
    if during is not None:
        write_during(rows, cfg.eval, run_dir)
    seconds = time.perf_counter() - start
    resumed_from = resume["iteration"] if resume is not None else None
    return _finish(cfg, m, run_dir, state_dir, seconds, len(images), rows[-1], resumed_from)


def _state(
    cfg: RunConfig,
    m: Models,
    batches: RealBatches,
    monitor: OverfitMonitor,
    rows: list[dict],
    it: int,
    seconds: float,
) -> dict:
    """Everything a resumed run needs to continue as if never stopped (tensors and plain
    values only, so it loads with weights_only=True)."""
    state = _weights(cfg, m, it) | {
        "seconds": seconds,
        "data": batches.state_dict(),
        "monitor": monitor.state_dict(),
        "rng": rng_state(),
        "log": rows,
    }
    if m.latents is not None:
        state["latents"] = m.latents.get_state()
    if m.precision.scaler is not None:
        state["scaler"] = m.precision.scaler.state_dict()
    return state


def _weights(cfg: RunConfig, m: Models, it: int) -> dict:
    """The networks and optimisers at iteration ``it`` with the config that built them: the
    final checkpoint.pt, and the core of every resumable state."""
    state = {
        "config": to_dict(cfg),
        "iteration": it,
        "G": m.G.state_dict(),
        "D": m.D.state_dict(),
        "opt_g": m.opt_g.state_dict(),
        "opt_d": m.opt_d.state_dict(),
    }
    if m.ema is not None:
        state["G_ema"] = m.ema.model.state_dict()
    return state


def _restore(m: Models, batches: RealBatches, monitor: OverfitMonitor, state: dict) -> None:
    m.G.load_state_dict(state["G"])
    m.D.load_state_dict(state["D"])
    m.opt_g.load_state_dict(state["opt_g"])
    m.opt_d.load_state_dict(state["opt_d"])
    if m.ema is not None:
        m.ema.model.load_state_dict(state["G_ema"])
    if m.precision.scaler is not None:
        m.precision.scaler.load_state_dict(state["scaler"])
    batches.load_state_dict(state["data"])
    monitor.load_state_dict(state["monitor"])
    set_rng_state(state["rng"])
    if m.latents is not None and "latents" in state:  # absent: a checkpoint of the old code
        m.latents.set_state(state["latents"])


def _weights_finite(m: Models) -> bool:
    """One host sync for all weights, not one per parameter."""
    checks = [p.isfinite().all() for net in (m.G, m.D) for p in net.parameters()]
    return bool(torch.stack(checks).all())


def _diverged(
    m: Models, rows: list[dict], run_dir: Path, state_dir: Path, it: int, seconds: float
) -> dict:
    """NaN/Inf: stop cleanly. The last good checkpoint stays; the workflow's outputs are
    written (the last sample grid, a checkpoint.pt that says so) so the study goes on."""
    grids = sorted((state_dir / SAMPLE_GRIDS).glob("iter_*.png"))
    grids = [g for g in grids if int(g.stem.split("_")[1]) <= it]
    if grids:
        atomic_write_bytes(run_dir / SAMPLES, grids[-1].read_bytes())
    else:
        save_grid(torch.zeros(1, 1, 8, 8), run_dir / SAMPLES)
    if rows:
        write_log(rows, run_dir / LOG)
    else:
        atomic_write_text(run_dir / LOG, "iteration\n")
    good = checkpoint_paths(state_dir)
    atomic_torch_save(run_dir / CHECKPOINT, {"diverged": True, "iteration": it})
    return write_status(
        run_dir,
        "diverged",
        iteration=it,
        reason=f"non-finite loss or weight, found at iteration {it} (checked at every log row)",
        last_good_checkpoint=str(good[-1]) if good else None,
        train_seconds=round(seconds, 3),
    )


def _latents(m: Models, cfg: RunConfig, classes: int, device: torch.device) -> tuple:
    """One training batch's z and class ids, from the run's latent stream (drawn on the
    CPU, so the same on every device) or, without one, torch's global generator."""
    n, z_dim = cfg.train.batch_size, cfg.model.z_dim
    return sample_latents(n, z_dim, classes, generator=m.latents, device=device)


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
        "lr_g": m.opt_g.param_groups[0]["lr"],
        "lr_d": m.opt_d.param_groups[0]["lr"],
        **gammas(m),
    }


def _snapshot(
    m: Models, latents: tuple, rows: list[dict], run_dir: Path, state_dir: Path, it: int
) -> None:
    """Sample grid from the fixed latents (and classes) into the state's samples/, and the
    log so far into the outputs (both atomic)."""
    G = m.sampler_G
    was_training = G.training
    G.eval()
    with torch.no_grad():
        save_grid(G(*latents), _grid_path(state_dir, it))
    G.train(was_training)
    if rows:
        write_log(rows, run_dir / LOG)


def _grid_path(state_dir: Path, it: int) -> Path:
    return state_dir / SAMPLE_GRIDS / f"iter_{it:06d}.png"


def _finish(
    cfg: RunConfig,
    m: Models,
    run_dir: Path,
    state_dir: Path,
    seconds: float,
    train_images: int,
    last: dict,
    resumed_from: int | None,
) -> dict:
    """The final grid under a fixed name, the checkpoint, and status 'done' (with the last
    logging interval's overfitting signals)."""
    t = cfg.train
    trained = resumed_from is None or resumed_from < t.iterations
    note = pinned_code_note(cfg) if trained else ""  # the code the iterations ran with
    final_grid = _grid_path(state_dir, t.iterations)
    atomic_write_bytes(run_dir / SAMPLES, final_grid.read_bytes())
    atomic_torch_save(run_dir / CHECKPOINT, _weights(cfg, m, t.iterations))
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
        resumed_from=resumed_from,  # the checkpoint a killed run went on from, if any
        **({"code_note": note} if note else {}),
    )
