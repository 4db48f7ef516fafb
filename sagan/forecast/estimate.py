"""``sagan estimate``: what a study costs on this device, before running it.

The study expands into its jobs (the workflow's rules, counted from ``sagan.study`` as the
Snakefile does), and a ``Timer`` says how long each piece of work takes: the start-up of a
job's process, one training iteration of each distinct (dataset, arm) configuration, one
evaluation per dataset, the extractor and reference features, each profiled step. This module
is the arithmetic only; ``sagan.forecast.timer`` times the pieces for real, and tests
inject a fixed timer.

Wall-clock on N devices x K jobs each: the model jobs share N x K slots; the cost profile and
the scaling sweep take every core of a CPU (the workflow gives them all), so on a CPU they run
alone; the report jobs run on the CPU after the last evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sagan.config import RunConfig
from sagan.cost.step import StepSpec
from sagan.data.meta import DataMeta
from sagan.study.model import Study
from sagan.study.plan import Run

# The job types as printed, in order; each maps to the workflow rules it counts.
JOB_TYPES = {
    "train": ("train",),
    "evaluate": ("evaluate",),
    "extractor/reference/prepare": ("prepare_dataset", "train_extractor", "reference_features"),
    "profile": ("profile",),
    "scaling": ("scaling",),
    "report": (
        "aggregate",
        "report_stats",
        "report_build",
        "notebook",
        "cost_figures",
        "cost_study",
        "study_claims",
        "noise_floor",
        "floor_tables",
    ),
}
# The job types that time the cost of a step (rules profile and scaling)
COST_TYPES = ("profile", "scaling")
# Seconds of the CPU-only jobs (whatever the device; they do not scale with it, so they are not
# timed here): the default study on a quiet 2-core CPU, `snakemake --cores all`, start-up
# included (notebook: the mean of the five; report_stats: not in that run, taken as
# aggregate's start-up and reading plus a few seconds of statistics; cost_study and
# study_claims are Snakemake `run:` jobs that re-read the workflow).
REPORT_SECONDS = {
    "aggregate": 3.0,
    "report_stats": 8.0,
    "report_build": 48.0,
    "notebook": 15.0,
    "cost_figures": 5.0,
    "cost_study": 7.0,
    "study_claims": 6.0,
    # digits at 16 px, 500 vs 400, 5 resamples: 17 s with start-up (its extractor is tiny;
    # Inception at 10k samples runs on the device and takes minutes: not modelled)
    "noise_floor": 17.0,
    "floor_tables": 3.0,
    # a model job: start-up, G loaded, one forward for the maps (2-4 s on the tiny study)
    "attention_maps": 4.0,
    # local rules: `sagan run-config`, a process that imports the registries (torch) and
    # resolves one run from the study document; the others are `run:` jobs, which re-read
    # the workflow (a 4-run study on the quiet 2-core CPU: 2 s, 6 s and 7 s)
    "run_config": 2.0,
    "study_document": 6.0,
    "study_facts": 7.0,
}
# The quiet CPU's start of a report job (`import sagan.cli, sagan.report.build`: the CPU
# seconds it took there, which is what it takes without other work beside it): the fixed
# seconds above scale by the start measured now over this, so they follow the machine's load.
QUIET_REPORT_START = 3.8
# A notebook job: a report job's start, papermill and nbconvert of a one-cell notebook (both
# measured now), plus the templates' own reading and drawing: 15 s on the quiet CPU less the
# 3.8 s and 4.4 s of the two starts there.
NOTEBOOK_CELLS = 7.0


@dataclass(frozen=True)
class DataShape:
    """What a dataset's cost depends on: image size, clip length, and image counts."""

    resolution: int
    channels: int = 3
    frames: int = 0  # > 0: video clips of this length
    num_classes: int = 10
    pool: int = 0  # training images (the "full" size)
    heldout: int = 0
    counted: bool = True  # False: the pool is a guess (the data were never prepared)

    def meta(self) -> DataMeta:
        return DataMeta(self.resolution, self.channels, self.num_classes, self.frames)

    def size(self, size: int | str) -> int:
        return self.pool if size == "full" else int(size)


class Timer(Protocol):
    """Seconds of each piece of work on one device (one job's share of it)."""

    def startup(self, cfg: RunConfig, shape: DataShape) -> float:
        """Starting one model job's process: the interpreter, torch and sagan imports, the
        prepared data loaded, the models built."""

    def report_startup(self) -> float:
        """Starting one report job's process: the interpreter, pandas and matplotlib."""

    def notebook_startup(self) -> float:
        """A notebook job's papermill (with its kernel) and nbconvert, on a one-cell
        notebook."""

    def during_score(self, cfg: RunConfig, shape: DataShape) -> float:
        """One FD scored while training (``evaluation.during``)."""

    def train_iteration(self, cfg: RunConfig, shape: DataShape) -> float:
        """One training iteration: ``n_dis`` D updates, one G update, the EMA update."""

    def evaluation(self, cfg: RunConfig, shape: DataShape, train_count: int) -> float:
        """One run's evaluation after loading: generation, features and every metric."""

    def extractor(self, shape: DataShape, epochs: int) -> float:
        """Training the domain extractor on the pool for ``epochs`` epochs."""

    def reference(self, cfg: RunConfig, shape: DataShape, count: int) -> float:
        """Features of ``count`` real images."""

    def step(self, spec: StepSpec) -> float:
        """One profiled training step (D + G update) of a profile or scaling row."""


@dataclass
class Forecast:
    runs: int
    jobs: dict[str, int]  # per workflow rule
    seconds: dict[str, float]  # job-seconds per workflow rule (all its jobs)
    devices: int
    jobs_per_device: int
    speedup: float  # throughput of K jobs on one device over one job (K: perfect overlap)
    cpu_cores: int  # where the report jobs run
    profile_exclusive: bool  # the profile and scaling jobs run alone (every core of a CPU)
    critical_seconds: float = 0.0  # the longest chain of model jobs (prepare -> evaluate)
    left_only: bool = False  # only the jobs left to run are counted
    cpu_share: float = 1.0  # a job's speed with every CPU core busy over its speed alone
    notes: list[str] = field(default_factory=list)

    def type_seconds(self) -> dict[str, float]:
        return {t: sum(self.seconds.get(r, 0.0) for r in rules) for t, rules in JOB_TYPES.items()}

    def type_jobs(self) -> dict[str, int]:
        return {t: sum(self.jobs.get(r, 0) for r in rules) for t, rules in JOB_TYPES.items()}

    @property
    def device_seconds(self) -> float:
        """Job-seconds of everything but the report (which is CPU-only)."""
        return sum(v for t, v in self.type_seconds().items() if t != "report")

    @property
    def cost_seconds(self) -> float:
        """The profile and scaling jobs' seconds: on a CPU each takes every core, alone."""
        types = self.type_seconds()
        return sum(types[t] for t in COST_TYPES)

    @property
    def wall_seconds(self) -> float:
        cost = self.cost_seconds
        shared = self.device_seconds - (cost if self.profile_exclusive else 0.0)
        # K jobs on one device do `speedup` times the work of one in the same time
        pooled = max(shared / (self.devices * self.speedup), self.critical_seconds)
        return pooled + (cost if self.profile_exclusive else 0.0) + self.report_wall_seconds

    @property
    def report_wall_seconds(self) -> float:
        """aggregate, then report_stats, then the tables/figures, notebooks and cost figures
        beside one another on the CPU's cores."""
        per_job = {r: self.seconds.get(r, 0.0) / max(self.jobs.get(r, 0), 1) for r in self.jobs}
        serial = self.seconds.get("aggregate", 0.0) + self.seconds.get("report_stats", 0.0)
        last = ("report_build", "notebook", "cost_figures", "cost_study", "study_claims")
        together = sum(self.seconds.get(r, 0.0) for r in last)
        longest = max((per_job.get(r, 0.0) for r in last), default=0.0)
        return serial + max(together / (self.cpu_cores * self.cpu_share), longest)


def job_counts(study: Study) -> dict[str, int]:
    """Jobs per workflow rule, as the workflow plans them (``snakemake -n``'s job stats)."""
    from sagan.cost.plan import profile_settings
    from sagan.report.outputs import NOTEBOOKS
    from sagan.study import (
        TRAINED_EXTRACTORS,
        attention_map_runs,
        data_key,
        entry_extractor,
        extractor_key,
        runs,
        shared_runs,
    )

    names = list(study.datasets)
    data = {data_key(study, d) for d in names}
    extractors = {(data_key(study, d), extractor_key(study, d)) for d in names}
    trained = {
        (data_key(study, d), extractor_key(study, d))
        for d in names
        if entry_extractor(study, d) in TRAINED_EXTRACTORS
    }
    # one floor per (data, extractor, the entry's sample count): entries sharing all share it
    floors = {(data_key(study, d), extractor_key(study, d), _num_samples(study, d)) for d in names}
    shared = len(shared_runs(study))  # copied from a run with the same config, not trained
    n = len(runs(study)) - shared
    scaling = profile_settings(study).scaling.resolutions
    return {
        "prepare_dataset": len(data),
        "train_extractor": len(trained),
        "reference_features": 2 * len(extractors),  # held-out and training pool
        "train": n,
        "evaluate": n,
        "share_run": shared,
        "profile": len(names),
        "scaling": 1 if scaling else 0,
        "aggregate": 1,
        "report_stats": 1,
        "report_build": 1,
        "notebook": len(NOTEBOOKS),
        "cost_figures": 1,
        "cost_study": 1,
        "study_claims": 1,
        "noise_floor": len(floors),
        "floor_tables": 1,
        "attention_maps": len(attention_map_runs(study)),
        "run_config": len(runs(study)),  # every run's config, shared ones too
        "study_document": 1,  # what run_config reads
        "study_facts": 1,
    }


def _num_samples(study: Study, dataset: str) -> int:
    """The sample count the entry's runs are scored at (its first run's resolved config)."""
    from sagan.study import run_config, runs

    return run_config(study, next(r for r in runs(study) if r.dataset == dataset)).eval.num_samples


def forecast(
    study: Study,
    timer: Timer,
    *,
    devices: int = 1,
    jobs_per_device: int = 1,
    speedup: float | None = None,
    cpu_cores: int = 1,
    profile_device: str = "cpu",
    shape_of: Callable[[str], DataShape] | None = None,
    pending: dict[str, int] | None = None,
    runs_left: dict[str, set[Run]] | None = None,
    cpu_share: float = 1.0,
) -> Forecast:
    """Every job of the study timed through ``timer``, each distinct piece of work once.

    ``speedup``: how much more K jobs on one device get done than one (``sagan bench
    throughput`` measures it); None: K, each job as fast as alone (true on a CPU with a core
    per job; on a GPU an upper bound). ``shape_of``: a dataset entry's DataShape (default:
    ``data_shape``, from its prepared file where there is one). ``pending``: the jobs per
    rule left to run (the workflow's dry run); a rule's seconds are then its share of them,
    and a piece only rules with nothing left need is not timed. None: every job.
    ``runs_left``: for train and evaluate, the very runs whose job is left (``runs_left``
    below): those runs are timed, not the rule's share of all of them.
    ``cpu_share``: a job's speed with every CPU core busy over alone (the report jobs')."""
    shape_of = shape_of or (lambda name: data_shape(study, name))
    counts = job_counts(study)
    left = counts if pending is None else pending
    runs_left = runs_left or {}
    work = _Work(study, timer, left, shape_of, runs_left)
    seconds = dict.fromkeys(counts, 0.0)
    chains, notes = [], []
    for name in study.datasets:
        shape = shape_of(name)
        if not shape.counted:
            notes.append(
                f"{name}: its training pool is unknown until prepared; counted as "
                f"{shape.pool} images (its largest size)"
            )
        chains.append(work.dataset(name, shape, seconds))
        seconds["profile"] += work.profile(name, shape, profile_device)
    if counts["scaling"]:
        seconds["scaling"] = work.scaling(profile_device)
    seconds |= work.report(counts)
    if pending is not None:  # each rule's share of its jobs that are left
        seconds = {
            r: v if r in runs_left else v * left.get(r, 0) / counts[r] if counts[r] else 0.0
            for r, v in seconds.items()
        }
        unknown = sorted(set(left) - set(counts))
        if unknown:
            notes.append(f"not counted (no cost model): {', '.join(unknown)}")
    jobs = {r: left.get(r, 0) for r in counts}
    return Forecast(
        runs=jobs["train"],
        jobs=jobs,
        seconds=seconds,
        devices=devices,
        jobs_per_device=jobs_per_device,
        speedup=float(speedup if speedup is not None else jobs_per_device),
        cpu_cores=cpu_cores,
        profile_exclusive=profile_device == "cpu",
        critical_seconds=max(chains, default=0.0),
        left_only=pending is not None,
        cpu_share=cpu_share,
        notes=notes,
    )


class _Work:
    """The study's jobs in seconds, each distinct measurement asked of the timer once, and
    only where a rule that needs it has jobs ``left``."""

    def __init__(
        self,
        study: Study,
        timer: Timer,
        left: dict[str, int],
        shape_of: Callable[[str], DataShape],
        runs_left: dict[str, set[Run]] | None = None,
    ) -> None:
        self.study, self.timer, self.left, self.shape_of = study, timer, left, shape_of
        self.runs_left = runs_left or {}
        self.cache: dict[str, float] = {}
        self.data_done: set[str] = set()  # data keys whose shared jobs are counted
        from sagan.study import shared_runs

        # copies of another run's results (seconds, untimed): resolved once, not per dataset
        self.shared = shared_runs(study)

    def wanted(self, *rules: str) -> bool:
        return any(self.left.get(r, 0) for r in rules)

    def run_left(self, rule: str, run: Run) -> bool:
        """Whether ``run``'s job of ``rule`` counts: it is left, or the rule's runs are not
        known one by one (then every run counts, and the rule its share of them)."""
        return rule not in self.runs_left or run in self.runs_left[rule]

    def once(self, key: Any, measure: Callable[[], float], *rules: str) -> float:
        """``measure``d the first time ``key`` is asked; 0 where none of ``rules`` (the
        rules that need it) has a job left."""
        if rules and not self.wanted(*rules):
            return 0.0
        key = repr(key)
        if key not in self.cache:
            self.cache[key] = measure()
        return self.cache[key]

    def start(self, cfg: RunConfig, shape: DataShape, *rules: str) -> float:
        """A model job's start-up: once per prepared data (loading it is part of it)."""
        key = ("startup", cfg.data.path, shape)
        return self.once(key, lambda: self.timer.startup(cfg, shape), *rules)

    def dataset(self, name: str, shape: DataShape, seconds: dict[str, float]) -> float:
        """Adds the dataset's train, evaluate and data jobs to ``seconds``; returns its
        longest chain of jobs left: prepare, then the longer of a training run and
        extractor -> reference features, then an evaluation."""
        from sagan.study import (
            TRAINED_EXTRACTORS,
            data_key,
            extractor_epochs,
            run_config,
            runs,
        )

        sizes = self.study.sizes_of(name)
        biggest = max(shape.size(s) for s in sizes)
        longest_train = longest_eval = 0.0
        model_rules = ("prepare_dataset", "train_extractor", "reference_features", "profile")
        for run in [r for r in runs(self.study) if r.dataset == name]:
            cfg = run_config(self.study, run)
            left = {r: self.run_left(r, run) for r in ("train", "evaluate")}
            if run in self.shared or not any(left.values()):
                continue
            start = self.start(cfg, shape, "train", "evaluate", *model_rules)
            train = evaluate = 0.0
            if left["train"]:
                arm = (cfg.variant, cfg.variant_options, cfg.model, replace(cfg.train, seed=0))
                per_it = self.once(
                    ("train", arm, shape),
                    lambda c=cfg: self.timer.train_iteration(c, shape),
                    "train",
                )
                during = self.once(
                    ("during", arm, _eval_settings(cfg), cfg.eval.during_samples, shape),
                    lambda c=cfg: self.timer.during_score(c, shape),
                    "train",
                )
                train = start + cfg.train.iterations * per_it + len(cfg.eval.during) * during
            if left["evaluate"]:
                # one evaluation per dataset, at its largest training set (memorisation is
                # scored against it): each of its runs counts that cost
                ev = ("evaluate", cfg.model, _eval_settings(cfg), shape, biggest)
                evaluate = start + self.once(
                    ev, lambda c=cfg: self.timer.evaluation(c, shape, biggest), "evaluate"
                )
            seconds["train"] += train
            seconds["evaluate"] += evaluate
            longest_train, longest_eval = max(longest_train, train), max(longest_eval, evaluate)
        start = self.start(cfg, shape, *model_rules)
        prepare = start  # reading and resizing the source is not timed
        extractor = 0.0  # a supplied extractor (Inception's file): no job
        if cfg.eval.extractor in TRAINED_EXTRACTORS:
            epochs = extractor_epochs(self.study, name)
            extractor = start + self.once(
                ("extractor", shape, epochs),
                lambda: self.timer.extractor(shape, epochs),
                "train_extractor",
            )
        refs = [
            start
            + self.once(
                ("reference", _eval_settings(cfg), shape, n),
                lambda n=n: self.timer.reference(cfg, shape, n),
                "reference_features",
            )
            for n in (shape.heldout, shape.pool)
        ]
        key = data_key(self.study, name)
        if key not in self.data_done:  # entries over the same data share these jobs
            self.data_done.add(key)
            seconds["prepare_dataset"] += prepare
            seconds["train_extractor"] += extractor
            seconds["reference_features"] += sum(refs)
        # a rule with nothing left adds nothing to the chain
        kept = {r: float(self.wanted(r)) for r in ("prepare_dataset", "train", "evaluate")}
        data = extractor * self.wanted("train_extractor") + max(refs) * self.wanted(
            "reference_features"
        )
        return (
            prepare * kept["prepare_dataset"]
            + max(longest_train * kept["train"], data)
            + longest_eval * kept["evaluate"]
        )

    def profile(self, name: str, shape: DataShape, device: str) -> float:
        """One profile job: every arm of the dataset in every profiled precision."""
        from sagan.cost.plan import profile_specs
        from sagan.study import dataset_study, dataset_variants, run_config, runs

        if not self.wanted("profile"):
            return 0.0
        view = dataset_study(self.study, name)
        specs = profile_specs(
            view,
            shape.resolution,
            shape.channels,
            variants=dataset_variants(self.study, name),
            frames=shape.frames,
        )
        cfg = run_config(self.study, next(r for r in runs(self.study) if r.dataset == name))
        start = self.start(cfg, shape, "profile")
        return self.profiled(specs, device, start)

    def scaling(self, device: str) -> float:
        from sagan.cost.plan import profile_settings, scaling_specs
        from sagan.study import run_config, runs

        if not self.wanted("scaling"):
            return 0.0
        settings = profile_settings(self.study)
        specs = [s for r in settings.scaling.resolutions for s in scaling_specs(self.study, r)]
        first = runs(self.study)[0]
        start = self.start(run_config(self.study, first), self.shape_of(first.dataset), "scaling")
        return self.profiled(specs, device, start)

    def profiled(self, specs: list[StepSpec], device: str, start: float) -> float:
        """A profile or scaling job: its start, then per row warm-up and timed steps and one
        step counted for its FLOPs; on a CPU the memory probes, a fresh process per row that
        builds the step and takes two, all started at once (their starts overlap: one)."""
        from sagan.cost.plan import profile_settings

        settings = profile_settings(self.study)
        each = [self.once(("step", spec), lambda s=spec: self.timer.step(s)) for spec in specs]
        steps = settings.warmup + settings.repeats + 1
        probes = start + 2 * sum(each) if settings.memory and device == "cpu" else 0.0
        return start + steps * sum(each) + probes

    def report(self, counts: dict[str, int]) -> dict[str, float]:
        """The CPU-only jobs: their quiet seconds scaled by how much slower a report job
        starts now; a notebook from its measured starts."""
        report_rules = [r for r in REPORT_SECONDS if counts[r]]
        if not self.wanted(*report_rules):
            return dict.fromkeys(REPORT_SECONDS, 0.0)
        start = self.once("report_startup", self.timer.report_startup)
        slower = start / QUIET_REPORT_START
        seconds = {r: each * slower * counts[r] for r, each in REPORT_SECONDS.items()}
        if self.wanted("notebook"):
            kernel = self.once("notebook_startup", self.timer.notebook_startup)
            seconds["notebook"] = (start + kernel + NOTEBOOK_CELLS * slower) * counts["notebook"]
        return seconds


def _eval_settings(cfg: RunConfig) -> tuple:
    """What an evaluation's cost depends on besides the model: not where its files are."""
    e = cfg.eval
    return (e.extractor, e.num_samples, e.batch_size, e.fid_infinity)


def data_shape(study: Study, name: str) -> DataShape:
    """A dataset entry's shape: from its prepared file where the workflow made one (read
    lazily, no images loaded), else from the study (3 channels, 10 classes; the pool from a
    known count, or the largest listed size, marked ``counted=False``)."""
    from pathlib import Path

    import torch

    from sagan.data import DATASETS
    from sagan.study import dataset_frames, derived_paths
    from sagan.study_checks import known_count

    entry = study.datasets[name]
    shape = DataShape(
        resolution=int(entry.resolution),
        frames=dataset_frames(entry.source, entry.options),
        heldout=int(entry.heldout),
    )
    path = Path(derived_paths(study, name)["data"])
    if path.is_file():
        saved = torch.load(path, mmap=True, weights_only=True)
        meta = DataMeta.from_dict(saved["meta"])
        return replace(
            shape,
            channels=meta.channels,
            num_classes=meta.num_classes,
            pool=len(saved["train_order"]),
        )
    known = known_count(DATASETS.get(entry.source), entry.options)
    if known is not None:
        return replace(shape, pool=int(known[0]) - shape.heldout)
    numbers = [int(s) for s in study.sizes_of(name) if s != "full"]
    return replace(shape, pool=max(numbers, default=shape.heldout), counted=False)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 360 else f"{seconds / 60:.1f} min"


def format_forecast(f: Forecast, device: str) -> str:
    """The forecast as printed by ``sagan estimate``."""
    jobs, secs = f.type_jobs(), f.type_seconds()
    copies = f.jobs.get("share_run", 0)
    shared = f" (and {copies} that copy a run with the same config)" if copies else ""
    runs = f"{f.runs} runs left to train" if f.left_only else f"{f.runs} runs"
    lines = [
        f"{runs}{shared} on {device}; job-hours by type (each job's process start-up included):",
        "",
        "| job type | jobs | hours | per job |",
        "|---|---:|---:|---:|",
    ]
    for t in JOB_TYPES:
        each = secs[t] / jobs[t] if jobs[t] else 0.0
        where = " (CPU)" if t == "report" else ""
        lines.append(f"| {t}{where} | {jobs[t]} | {secs[t] / 3600:.3f} | {each:.1f} s |")
    overlap = (
        f"{f.speedup:.2f}x one job's throughput per device"
        if f.speedup != f.jobs_per_device
        else "each job as fast as alone"
    )
    lines += [
        "",
        f"total device-hours: {f.device_seconds / 3600:.3f} (without the report's "
        f"{secs['report'] / 3600:.3f} CPU hours)",
        f"wall-clock on {f.devices} device(s) x {f.jobs_per_device} job(s) ({overlap}): "
        f"{hours(f.wall_seconds)} ({f.wall_seconds:.0f} s)",
    ]
    return "\n".join(lines + [f"note: {n}" for n in f.notes])
