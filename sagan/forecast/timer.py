"""The pieces of a study's work timed on this device, briefly: the ``Timer`` of
``sagan.forecast.estimate`` that ``sagan estimate`` uses.

Nothing is read from disk but the supplied extractor's file (Inception's) and, in the timed
start-up of a job, its prepared data where there is some: the models are built untrained and
fed random data of the study's shapes, since cost does not depend on the weights or the
pixels. Large counts are timed on a slice and scaled: generation, features and an extractor
epoch linearly; the metrics (pairwise distances: up to quadratic) by the growth measured
between two slice sizes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from sagan.config import RunConfig
from sagan.cost.step import StepSpec, build_step
from sagan.cost.timing import sync
from sagan.data.meta import DataMeta
from sagan.forecast.estimate import DataShape
from sagan.forecast.starts import model_job_start, notebook_run, report_job_start

SAMPLE_CAP = 2000  # images generated and scored at most; more are scaled from this many
EXTRACTOR_CAP = 1024  # images of one timed extractor epoch
DOMAIN_FEATURES = 64  # the domain extractor's feature width


class MeasuredTimer:
    """Times each piece on ``device`` with ``threads`` torch threads (the workflow gives a
    model job one CPU thread), a profiled step with ``profile_threads`` (the profile and
    scaling jobs take every core; default ``threads``): ``warmup`` untimed and ``steps``
    timed iterations."""

    def __init__(
        self,
        device: str = "cpu",
        threads: int = 1,
        warmup: int = 2,
        steps: int = 3,
        profile_threads: int | None = None,
    ):
        self.device, self.threads, self.warmup, self.steps = device, threads, warmup, steps
        self.profile_threads = profile_threads or threads
        self._extractors: dict[tuple, nn.Module] = {}

    def _clock(self, work: Callable[[], object], threads: int | None = None) -> float:
        # numpy's BLAS on as many threads as torch: Snakemake sets OMP_NUM_THREADS to a
        # job's threads, and KID on every core of a shared CPU is several times slower
        with threadpool_limits(threads or self.threads):
            sync(self.device)
            start = time.perf_counter()
            work()
            sync(self.device)
            return time.perf_counter() - start

    def _per_step(self, step: Callable[[], object], threads: int | None = None) -> float:
        threads = threads or self.threads
        torch.set_num_threads(threads)
        for _ in range(self.warmup):
            step()
        seconds = self._clock(lambda: [step() for _ in range(self.steps)], threads)
        torch.set_num_threads(self.threads)
        return seconds / self.steps

    def startup(self, cfg: RunConfig, shape: DataShape) -> float:
        """A model job's process start: a fresh interpreter importing what the job imports,
        loading its prepared data (where there is some) and building its models."""
        return model_job_start(cfg, shape.meta(), self.threads, self.device)

    def report_startup(self) -> float:
        return report_job_start()

    def notebook_startup(self) -> float:
        return notebook_run()

    def during_score(self, cfg: RunConfig, shape: DataShape) -> float:
        """One FD while training: ``during_samples`` generated, their features, the FD
        against a reference of the held-out count."""
        from sagan.images import to_pixel_range
        from sagan.metrics.distances import frechet_distance
        from sagan.metrics.extractors import extract
        from sagan.models.backbone import models_for_run, run_classes
        from sagan.models.latents import generate

        if shape.frames:
            return 0.0  # video: its during score is not timed
        torch.set_num_threads(self.threads)
        e, meta = cfg.eval, shape.meta()
        G = models_for_run(cfg, meta)[0].to(self.device).eval()
        net = self._extractor(cfg, shape)
        rng = np.random.default_rng(0)

        def score() -> None:
            with torch.no_grad():
                images = generate(
                    G,
                    e.during_samples,
                    seed=e.seed,
                    batch_size=e.batch_size,
                    num_classes=run_classes(cfg, meta),
                    device=self.device,
                )
            fake = extract(net, to_pixel_range(images), e.batch_size, self.device).numpy()
            frechet_distance(fake, rng.standard_normal((max(shape.heldout, 8), fake.shape[1])))

        return self._clock(score)

    def train_iteration(self, cfg: RunConfig, shape: DataShape) -> float:
        torch.set_num_threads(self.threads)
        return self._per_step(training_iteration(cfg, shape.meta(), self.device))

    def evaluation(self, cfg: RunConfig, shape: DataShape, train_count: int) -> float:
        """Generation and features of a slice of the samples, scaled; then the metrics on
        random features of the real counts, scaled by their measured growth."""
        from sagan.images import to_pixel_range
        from sagan.metrics.extractors import extract
        from sagan.models.backbone import models_for_run, run_classes
        from sagan.models.latents import generate

        torch.set_num_threads(self.threads)
        e, meta = cfg.eval, shape.meta()
        n = min(e.num_samples, SAMPLE_CAP)
        G = models_for_run(cfg, meta)[0].to(self.device).eval()
        net = None if shape.frames else self._extractor(cfg, shape)
        width = [DOMAIN_FEATURES]

        def features() -> None:
            with torch.no_grad():
                images = generate(
                    G,
                    n,
                    seed=e.seed,
                    batch_size=e.batch_size,
                    num_classes=run_classes(cfg, meta),
                    device=self.device,
                )
            if net is not None:  # video: generation only (its metrics are not timed)
                width[0] = extract(net, to_pixel_range(images), e.batch_size, self.device).shape[1]

        seconds = self._clock(features) * e.num_samples / n
        if shape.frames:
            return seconds
        counts = (e.num_samples, shape.heldout, train_count)
        return seconds + self._metrics(cfg, counts, width[0])

    def _metrics(self, cfg: RunConfig, counts: tuple[int, int, int], width: int) -> float:
        from sagan.metrics.image_evaluate import fd_infinity_metric
        from sagan.metrics.suite import feature_metrics

        e = cfg.eval
        rng = np.random.default_rng(0)

        def run(scale: float) -> float:
            fake, held, train = (
                rng.standard_normal((max(int(c * scale), 8), width)) for c in counts
            )

            def metrics() -> None:
                feature_metrics(fake, held, train, extractor=e.extractor, seed=e.seed)
                if e.fid_infinity:
                    fd_infinity_metric(fake, held, e, {})

            return self._clock(metrics)

        scale = min(1.0, SAMPLE_CAP / max(counts))
        full = run(scale)
        if scale == 1.0:
            return full
        half = run(scale / 2)
        growth = min(max(math.log2(full / half), 1.0), 2.0)  # linear to quadratic in the count
        return full * (1 / scale) ** growth

    def extractor(self, shape: DataShape, epochs: int) -> float:
        """One epoch of the domain classifier on a slice of the pool, scaled to the pool and
        the epochs (video: its frames, counted as images)."""
        import torch.nn.functional as F

        from sagan.metrics.domain import DomainClassifier

        torch.set_num_threads(self.threads)
        model = DomainClassifier(shape.channels, shape.resolution, shape.num_classes)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        pool = shape.pool * max(shape.frames, 1)
        n = max(min(pool, EXTRACTOR_CAP), 64)
        images = _images(n, DataShape(shape.resolution, shape.channels)).float()
        labels = torch.randint(shape.num_classes, (n,))

        def epoch() -> None:
            for x, y in zip(images.split(64), labels.split(64), strict=True):
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

        return self._clock(epoch) * pool / n * epochs

    def reference(self, cfg: RunConfig, shape: DataShape, count: int) -> float:
        from sagan.metrics.extractors import extract

        if shape.frames or count == 0:
            return 0.0  # video features are not timed
        torch.set_num_threads(self.threads)
        net = self._extractor(cfg, shape)
        n = max(min(count, SAMPLE_CAP), 1)
        pixels = _images(n, shape).float()
        return self._clock(lambda: extract(net, pixels, 250, self.device)) * count / n

    def step(self, spec: StepSpec) -> float:
        step, _ = build_step(spec, self.device)
        # on the threads the profile job runs it on: a tiny model can be slower on more
        return self._per_step(step, self.profile_threads)

    def _extractor(self, cfg: RunConfig, shape: DataShape) -> nn.Module:
        """The study's extractor: the domain classifier untrained (same cost), a supplied
        one (Inception) from its file."""
        from sagan.metrics.domain import DomainClassifier, DomainFeatures
        from sagan.metrics.extractors import load_extractor

        key = (cfg.eval.extractor, cfg.eval.extractor_path, shape)
        if key not in self._extractors:
            if cfg.eval.extractor == "domain":
                classifier = DomainClassifier(shape.channels, shape.resolution, shape.num_classes)
                net = DomainFeatures(classifier, torch.ones(DOMAIN_FEATURES))
                self._extractors[key] = net.to(self.device).eval()
            else:  # a missing file is a DataError naming where to get it
                self._extractors[key] = load_extractor(
                    cfg.eval.extractor, cfg.eval.extractor_path, self.device
                )
        return self._extractors[key]


def _images(n: int, shape: DataShape) -> torch.Tensor:
    """n random uint8 images (or clips) of the shape."""
    clip = (shape.frames,) if shape.frames else ()
    size = (n, shape.channels, *clip, shape.resolution, shape.resolution)
    return torch.randint(0, 256, size, dtype=torch.uint8)


def training_iteration(
    cfg: RunConfig, meta: DataMeta, device: str, compile_mode: str | None = None
) -> Callable[[], None]:
    """One iteration of the trainer's loop on a random real batch: ``n_dis`` D updates and a
    G update on fresh latents, then G's EMA update. ``compile_mode``: torch.compile G and D
    in that mode (``reduce-overhead`` captures CUDA graphs)."""
    from sagan.models.backbone import run_classes
    from sagan.models.latents import sample_latents
    from sagan.train.trainer import build, d_step, g_step, memory_layout

    t = cfg.train
    m = build(cfg, meta, torch.device(device))
    if compile_mode:
        m.G.compile(mode=compile_mode)
        m.D.compile(mode=compile_mode)
    classes = run_classes(cfg, meta)
    shape = DataShape(meta.resolution, meta.channels, meta.frames)
    real = _images(t.batch_size, shape).to(device) / 127.5 - 1
    real = real.contiguous(memory_format=memory_layout(t.channels_last, meta))
    y = torch.randint(classes, (t.batch_size,), device=device) if classes else None
    z_dim = cfg.model.z_dim

    def iteration() -> None:
        for _ in range(t.n_dis):
            d_step(m, real, y, *sample_latents(t.batch_size, z_dim, classes, device=device))
        g_step(m, *sample_latents(t.batch_size, z_dim, classes, device=device))
        if m.ema is not None:
            m.ema.update(m.G, t.ema_start + 1)  # past its start: the real update

    return iteration
