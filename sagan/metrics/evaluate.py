"""Score a trained run: generated images straight from G to features, then FD and KID."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import torch

from sagan.config import RunConfig, load_run_config
from sagan.data import load_prepared
from sagan.errors import DataError
from sagan.images import to_pixel_range
from sagan.io import atomic_write_json
from sagan.metrics.distances import frechet_distance, kernel_distance
from sagan.metrics.extractors import extract, load_extractor
from sagan.metrics.probes import PROBE_SCORES
from sagan.metrics.reference import load_reference
from sagan.models.backbone import models_for_run, run_classes
from sagan.models.latents import generate
from sagan.registry import load_plugins
from sagan.train.status import read_status


def load_generator(run_dir: Path, device: str = "cpu") -> tuple[torch.nn.Module, int]:
    """The trained G in eval mode, and its number of classes (0: unconditional)."""
    cfg = load_run_config(run_dir / "config.yaml")
    load_plugins(cfg.plugins)
    meta = load_prepared(cfg.data.path).meta
    G, _ = models_for_run(cfg, meta)
    path = run_dir / "checkpoint.pt"
    if not path.is_file():
        raise DataError(f"{path} does not exist: train the run first (sagan train)")
    G.load_state_dict(torch.load(path, weights_only=True, map_location=device)["G"])
    return G.to(device).eval(), run_classes(cfg, meta)


def probe_metric(cfg: RunConfig, pixels: torch.Tensor) -> dict:
    """The probe's exact coherence score of the generated images, beside real and chance."""
    probe = PROBE_SCORES.build(cfg.data.dataset)
    data = load_prepared(cfg.data.path)
    real = data.images[data.heldout].float()
    entry = {
        "value": probe.score(pixels),
        "real_heldout": probe.score(real),
        "chance": probe.chance,
        "higher_is_better": probe.higher_is_better,
        "num_samples": len(pixels),
        "sample_seed": cfg.eval.seed,
    }
    return {probe.name: entry}


def evaluate(run_dir: str | Path, *, device: str = "cpu") -> dict:
    """Write ``metrics.json`` into the run dir and return it."""
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir / "config.yaml")
    e = cfg.eval
    G, classes = load_generator(run_dir, device)
    images = generate(
        G, e.num_samples, seed=e.seed, batch_size=e.batch_size, num_classes=classes, device=device
    )
    pixels = to_pixel_range(images)
    fake = extract(
        load_extractor(e.extractor, e.extractor_path, device), pixels, e.batch_size, device
    ).numpy()
    real, ref = load_reference(e.reference_path)
    protocol = {
        "extractor": e.extractor,
        "extractor_file": e.extractor_path,
        "num_samples": e.num_samples,
        "sample_seed": e.seed,
        "reference_split": ref["split"],
        "reference_count": ref["count"],
        "library": f"clean-fid {version('clean-fid')}",
    }
    metrics = {
        f"fd_{e.extractor}": {"value": frechet_distance(fake, real), **protocol},
        f"kid_{e.extractor}": {"value": kernel_distance(fake, real, seed=e.seed), **protocol},
    }
    if cfg.data.dataset in PROBE_SCORES:
        metrics |= probe_metric(cfg, pixels)
    result = {"run": str(run_dir), "status": read_status(run_dir)["state"], "metrics": metrics}
    atomic_write_json(run_dir / "metrics.json", result)
    return result
