"""A study's plan: its runs, each run's resolved config and folder, the files they read,
the runs that copy another's results, and what the report needs to know, all from the
``Study`` (``sagan.study.model``) before any job runs. The workflow's rules and input
functions call these; so do the forecast and the CLI."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, replace
from typing import Any

from sagan import layout, run_folder
from sagan.arms import Arm
from sagan.config import (
    DataConfig,
    EvalConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    from_dict,
    to_dict,
)
from sagan.data import DATASETS
from sagan.data.kinds import IMAGE, DatasetKind, kind_of_tags
from sagan.errors import ConfigError
from sagan.memory_fit import meta_device
from sagan.metrics.during import default_during
from sagan.models.backbone import (
    build_blocks,
)
from sagan.registry import VARIANTS
from sagan.report.figure_plan import StudyFacts
from sagan.study.model import (
    SECTIONS,
    Study,
    extractor_of,
)


@dataclass(frozen=True)
class Run:
    dataset: str
    arm: str  # the arm's name (its registered variant: the arm's ``variant``)
    size: int | str
    seed: int

    @property
    def path(self) -> str:
        """The run's id below ``results/runs/<study>/`` (without its configuration key)."""
        return f"{self.dataset}/{self.arm}/n{self.size}/s{self.seed}"


def kind(registry: Any, name: str) -> DatasetKind:
    """The kind of a registered dataset or variant (its tags say; image unless tagged)."""
    return kind_of_tags(registry.get(name).tags)


def study_arms(study: Study) -> dict[str, Arm]:
    """The study's arms by name (sweeps expanded once, when it was parsed)."""
    return study.arms


def dataset_source(study: Study, dataset: str) -> str:
    """The registered dataset a study's dataset entry builds (``dataset:``, default its name)."""
    return study.datasets[dataset].source


def dataset_kind(study: Study, dataset: str) -> DatasetKind:
    return kind(DATASETS, dataset_source(study, dataset))


def dataset_variants(study: Study, dataset: str) -> list[str]:
    """The arms trained on ``dataset``: its own ``variants`` list (arm names, or a swept
    entry's name for all its points), else every arm of the dataset's kind."""
    listed = study.datasets[dataset].variants
    arms = study.arms
    if listed:
        return [a for name in listed for a in arms if a == name or arms[a].sweep == name]
    want = dataset_kind(study, dataset)
    return [a for a, arm in arms.items() if kind(VARIANTS, arm.variant) == want]


def dataset_study(study: Study, dataset: str) -> Study:
    """The study as one dataset sees it (``Study.for_dataset``: its sections over the
    study's, its sizes). A kind with its own extractors (video) never takes the study's
    ``evaluation.extractor``, which is for images."""
    extractors = dataset_kind(study, dataset).extractors
    if extractors is None:
        return study.for_dataset(dataset)
    # its own, else the kind's first (video: FVD with i3d_path)
    evaluation = study.section("evaluation", dataset)
    evaluation["extractor"] = study.datasets[dataset].evaluation.get("extractor", extractors[0])
    evaluation.pop("extractor_path", None)
    return study.for_dataset(dataset, evaluation=evaluation)


def dataset_frames(dataset: str, options: dict[str, Any] | None) -> int:
    """The clip length a registered video dataset makes (its ``frames`` option or default);
    0 for images."""
    if not kind(DATASETS, dataset).has_frames:
        return 0
    default = inspect.signature(DATASETS.get(dataset).builder).parameters["frames"].default
    return int((options or {}).get("frames", default))


def extractor_epochs(study: Study, dataset: str) -> int:
    """Training epochs of the dataset's domain extractor (its own, else the study's)."""
    own = study.datasets[dataset].extractor_epochs
    return int(study.extractor_epochs if own is None else own)


def data_key(study: Study, dataset: str) -> str:
    """The prepared data's key, by source and settings, not the entry's name: entries that
    prepare the same data (a placement sweep's own entry) share it, its extractor and its
    reference features."""
    entry = study.datasets[dataset]
    version = DATASETS.get(entry.source).version
    return layout.data_key(entry.source, entry.resolution, entry.heldout, entry.options, version)


def extractor_key(study: Study, dataset: str) -> str:
    """A trained extractor by its settings (``domain-e15``); a supplied one by its file."""
    evaluation = dataset_study(study, dataset).evaluation
    name = extractor_of(evaluation)
    if name in TRAINED_EXTRACTORS:
        return f"{name}-e{extractor_epochs(study, dataset)}"
    return f"{name}-{layout.short_hash(evaluation.get('extractor_path', ''))}"


def entry_extractor(study: Study, dataset: str) -> str:
    """The feature extractor a dataset entry's runs are scored with (its own evaluation
    section over the study's, else the default)."""
    return extractor_of(dataset_study(study, dataset).evaluation)


def derived_paths(study: Study, dataset: str) -> dict[str, str]:
    """The data, extractor and reference feature files a dataset's runs read."""
    data, extractor = data_key(study, dataset), extractor_key(study, dataset)
    evaluation = dataset_study(study, dataset).evaluation
    supplied = extractor_of(evaluation) not in TRAINED_EXTRACTORS
    return {
        "data": layout.DATA.format(data=data),
        "extractor": (
            evaluation.get("extractor_path", "")
            if supplied
            else layout.EXTRACTOR.format(data=data, extractor=extractor)
        ),
        "reference": layout.REFERENCE.format(data=data, extractor=extractor, split="heldout"),
        "train_reference": layout.REFERENCE.format(data=data, extractor=extractor, split="train"),
    }


def runs(study: Study) -> list[Run]:
    return [
        Run(d, v, n, s)
        for d in study.datasets
        for v in dataset_variants(study, d)
        for n in study.sizes_of(d)
        for s in study.seeds
    ]


def run_named(study: Study, path: str) -> Run:
    """The study's run whose id (``Run.path``: dataset/arm/n<size>/s<seed>) is ``path``."""
    for run in runs(study):
        if run.path == path:
            return run
    raise ConfigError(
        f"study {study.name!r} has no run {path!r} (dataset/arm/n<size>/s<seed>); "
        "`sagan arms` lists its arms, and the study's seeds and sizes give the rest"
    )


def shared_runs(study: Study) -> dict[Run, Run]:
    """Each run that an earlier run of the study already trains and scores (the same
    resolved config but for its labels, e.g. a sweep's own baseline point), mapped to that
    earlier run. The study trains the earlier one once; the other copies its results."""
    first: dict[str, Run] = {}
    shared = {}
    for run in runs(study):
        key = layout.result_key(to_dict(run_config(study, run)))
        if key in first:
            source = first[key]
            if (source.seed, source.size) != (run.seed, run.size):
                # its row would claim a seed or size it never trained: a label must not differ
                raise ConfigError(
                    f"run {run.path} would copy the results of {source.path} (seed"
                    f" {source.seed}, size {source.size}): set seeds with `seeds:` and sizes"
                    " with `sizes:` only"
                )
            shared[run] = source
        else:
            first[key] = run
    return shared


def attention_map_runs(study: Study) -> list[Run]:
    """The runs whose G's attention maps the report draws: on each image dataset, the first
    arm whose G has a block that gives maps (``attention_maps``), at the dataset's largest
    size and first seed."""
    arms = study.arms
    chosen = []
    for dataset in study.datasets:
        if dataset_kind(study, dataset) is not IMAGE:  # maps are drawn for images only
            continue
        sizes = study.sizes_of(dataset)
        largest = max(sizes, key=lambda n: math.inf if n == "full" else int(n))
        for name in dataset_variants(study, dataset):
            _, g_blocks, _ = arm_blocks(study, dataset, arms[name])
            blocks = [m for side in sorted(g_blocks) for m in g_blocks[side].modules()]
            if any(hasattr(m, "attention_maps") for m in blocks):
                chosen.append(Run(dataset, name, largest, min(study.seeds)))
                break
    return chosen


def study_facts(study: Study, profile: bool = True) -> StudyFacts:
    """What the report's plan (``sagan.report.figure_plan``) needs to know of a study,
    from its config alone, before any job runs; ``profile``: whether a training-step profile
    is made (the workflow always makes one)."""
    from sagan.metrics.probes import PROBE_SCORES

    sources = {dataset_source(study, d) for d in study.datasets}
    return StudyFacts(
        kinds=frozenset(dataset_kind(study, d).name for d in study.datasets),
        probe_metrics=frozenset(PROBE_SCORES.build(s).name for s in sources if s in PROBE_SCORES),
        during=any(run_config(study, run).eval.during for run in runs(study)),
        sweep=any(
            study.arms[arm].sweep for d in study.datasets for arm in dataset_variants(study, d)
        ),
        profile=profile,
        attention_maps=bool(attention_map_runs(study)),
    )


def run_dir(study: Study, run: Run) -> str:
    """The run's output folder: arm and configuration key, size, seed and iterations."""
    cfg = run_config(study, run)
    return folder_of_run(cfg, run, f"{run.arm}-{layout.run_key(to_dict(cfg))}")


def folder_of_run(cfg: RunConfig, run: Run, arm: str) -> str:
    return run_folder.folder(cfg.study, run.dataset, arm, run.size, run.seed, cfg.train.iterations)


def run_config(study: Study, run: Run, paths: dict[str, str] | None = None) -> RunConfig:
    """The resolved config of one run; ``paths`` holds the data, extractor and reference
    (held-out) and train_reference (training pool) feature files (default: where the
    workflow makes them). The arm's model and train overrides go over the dataset's."""
    paths = paths or derived_paths(study, run.dataset)
    entry = study.datasets[run.dataset]
    arm = study.arms[run.arm]
    study = dataset_study(study, run.dataset)
    base = RunConfig(
        study=study.name,
        arm=arm.name,
        sweep=arm.sweep,
        sweep_point=dict(arm.point),
        variant=arm.variant,
        variant_source=arm.source or layout.source_hash(VARIANTS.get(arm.variant).builder),
        variant_options=dict(arm.options),
        plugins=list(study.plugins),
        data=DataConfig(
            dataset=run.dataset,
            source=entry.source,
            resolution=entry.resolution,
            size=run.size,
            path=paths["data"],
        ),
        model=from_dict(ModelConfig, study.section("model", arm=arm), "model"),
        train=from_dict(TrainConfig, study.section("train", arm=arm), "train"),
        eval=from_dict(EvalConfig, study.evaluation, "evaluation"),
    )
    return replace(
        base,
        train=replace(base.train, seed=run.seed),
        eval=replace(
            base.eval,
            during=run_during(study, base.train.iterations),
            extractor_path=paths["extractor"],
            reference_path=paths["reference"],
            train_reference_path=paths["train_reference"],
        ),
    )


def run_during(study: Study, iterations: int) -> list[int]:
    """The iterations a run scores FD at while training: the study's (or its dataset's)
    ``evaluation.during`` where it sets one (``[]``: none), else ``default_during``, so every
    run's convergence is measured (sagan.report.run_checks) unless a study turns it off."""
    evaluation = study.evaluation
    if "during" in evaluation:
        return list(evaluation["during"] or [])
    return default_during(iterations)


TRAINED_EXTRACTORS = ("domain",)  # extractors the workflow trains; others are files you supply


def known_classes(source: str, model: ModelConfig) -> int:
    """Classes a run on a registered dataset conditions on, as far as known before it is
    prepared: 0 unconditional; 1 for a dataset registered ``unlabelled`` (every label 0);
    else 2, standing for the count ``prepare`` finds."""
    if not model.conditional:
        return 0
    return 1 if "unlabelled" in DATASETS.get(source).tags else 2


def arm_blocks(study: Study, dataset: str, arm: Arm) -> tuple:
    """The arm's backbone and its G and D blocks by side (``build_blocks``), built on the meta
    device: no memory, no weights."""
    where = f"variants.{arm.name}"
    model_keys = arm_sections(study, dataset, arm)["model"]
    model = from_dict(ModelConfig, model_keys, f"{where}.model")
    entry = study.datasets[dataset]
    with meta_device():
        return build_blocks(
            model,
            arm.variant,
            arm.options,
            image_size=entry.resolution,
            channels=3,
            num_classes=known_classes(entry.source, model),
            frames=dataset_frames(entry.source, entry.options),
        )


def arm_sections(study: Study, dataset: str, arm: Arm | None = None) -> dict[str, dict]:
    """The sections as one arm on one dataset sees them (the dataset's own view, the arm's
    model and train keys over it)."""
    view = dataset_study(study, dataset)
    return {name: view.section(name, arm=arm) for name in SECTIONS}


def bench_arm(study: Study, name: str | None = None) -> Arm:
    """The arm a benchmark times: ``name``, else the study's first arm with attention in G,
    else its first arm."""
    from sagan.models import build_variant

    arms = study.arms
    if name is None:
        placed = [a for a in arms.values() if build_variant(a.variant, a.options).g_slots]
        return (placed or list(arms.values()))[0]
    if name not in arms:
        raise ConfigError(f"--arm {name!r} is not an arm of the study; use one of {list(arms)}")
    return arms[name]


COST_KEYS = ("study", "plugins", "datasets", "variants", "model", "profile")


def cost_part(study: Study) -> dict[str, Any]:
    """The part of the study's document that decides what the profile measures (the
    workflow's cost_study param: a change re-runs the profile, any other change does not),
    with the training batch it profiles at."""
    part = {k: study.document[k] for k in COST_KEYS if k in study.document}
    part["train"] = {"batch_size": study.batch_size}
    return part
