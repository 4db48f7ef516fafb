"""FD while training (``evaluation.during``): the sampled G (its EMA when there is one) scored
at chosen iterations with the study's extractor against the held-out reference, for curves
of FD against iterations and seconds (claim 7 compares them at equal iterations and time).

A small sample count keeps it cheap, so these values are biased upward against the final
``metrics.json`` (FD falls with the sample count): compare them with each other only. The
generator side draws from its own seeded RNG, and G runs in eval mode, so scoring leaves the
training's random stream and weights exactly as they were: a run with it trains the same."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import torch
from torch import nn

from sagan.config import EvalConfig
from sagan.errors import ConfigError
from sagan.images import to_pixel_range
from sagan.io import atomic_write_text
from sagan.metrics.declared import feature_name
from sagan.models.latents import generate

DURING_CSV = "during.csv"
COLUMNS = ("iteration", "seconds", "fd", "metric", "num_samples")
# A study that does not set evaluation.during scores this many evenly spaced points, the last
# at the end and one at 2/3 of the run: the convergence criterion reads the last third
# (sagan.report.run_checks). At 250 samples one scoring of the 16 px digits model costs
# about 0.05 s on one CPU core, against ~8 s for its 400 iterations.
DEFAULT_POINTS = 6


# The trainer imports this module, so the metric stack (clean-fid, prdc: torchvision's models,
# sklearn; 3 s of start-up) is imported only by the runs that score while training.


def default_during(iterations: int, points: int = DEFAULT_POINTS) -> list[int]:
    """``points`` iterations evenly spaced over a run of ``iterations``: round(k * iterations /
    points) for k = 1..points, without repeats (a run shorter than ``points`` scores each)."""
    return sorted({max(1, round(k * iterations / points)) for k in range(1, points + 1)})


def check_during(e: EvalConfig, iterations: int, where: str = "evaluation") -> None:
    bad = [i for i in e.during if not isinstance(i, int) or isinstance(i, bool) or i < 1]
    if bad:
        raise ConfigError(f"{where}.during must list positive iterations, got {bad[:3]}")
    if e.during and e.during_samples < 2:
        raise ConfigError(f"{where}.during_samples must be at least 2, got {e.during_samples}")
    late = [i for i in e.during if i > iterations]
    if late:
        raise ConfigError(
            f"{where}.during has iteration(s) {late[:3]} after the run's {iterations}; "
            "drop them or raise train.iterations"
        )


class DuringScorer:
    """Loads the extractor and the reference once; ``score`` is one FD."""

    def __init__(
        self, e: EvalConfig, classes: int, device: torch.device, kind: str = "image"
    ) -> None:
        for key in ("extractor_path", "reference_path"):
            if not getattr(e, key):
                raise ConfigError(
                    f"evaluation.during needs eval.{key} in the run config (the workflow sets "
                    "it); set it, or remove evaluation.during"
                )
        self.e, self.classes, self.device = e, classes, device
        from sagan.metrics.protocols import protocol_named
        from sagan.metrics.reference_files import load_reference

        self.net = protocol_named(kind).load_extractor(e.extractor, e.extractor_path, device)
        self.reference, _ = load_reference(e.reference_path)

    def due(self, iteration: int) -> bool:
        return iteration in self.e.during

    def score(self, G: nn.Module) -> float:
        was_training = G.training
        G.eval()
        e = self.e
        with torch.random.fork_rng(devices=[]):  # the training's CPU random stream untouched
            images = generate(
                G,
                e.during_samples,
                seed=e.seed,
                batch_size=e.batch_size,
                num_classes=self.classes,
                device=self.device,
            )
        G.train(was_training)
        from sagan.metrics.distances import frechet_distance
        from sagan.metrics.extractors import extract

        fake = extract(self.net, to_pixel_range(images), e.batch_size, self.device).numpy()
        return frechet_distance(fake, self.reference)


def log_column(e: EvalConfig) -> str:
    """The training log's column of the scores (empty in rows that were not scored)."""
    # declared's name, not suite's: suite imports prdc and sklearn (1.5 s per train job)
    return f"during_{feature_name('fd', e.extractor)}"


def write_during(log_rows: list[dict], e: EvalConfig, run_dir: Path) -> None:
    """during.csv from the training log's scored rows (a resumed run's log holds them all)."""
    column = log_column(e)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for row in log_rows:
        if row.get(column) is not None:
            writer.writerow(
                {
                    "iteration": row["iteration"],
                    "seconds": row["seconds"],
                    "fd": row[column],
                    "metric": feature_name("fd", e.extractor),
                    "num_samples": e.during_samples,
                }
            )
    atomic_write_text(run_dir / DURING_CSV, buf.getvalue())
