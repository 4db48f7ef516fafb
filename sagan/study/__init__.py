"""A study: datasets x arms x sizes x seeds, expanded into run configs, checked up front.

Pure functions over the study dict (as loaded from YAML), so the workflow, the CLI and the
tests share one definition of what a study means and what is valid.
"""

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
from sagan.cost.plan import check_profile
from sagan.data import DATASETS
from sagan.data.kinds import IMAGE, DatasetKind, kind_of_tags
from sagan.errors import ConfigError
from sagan.memory_fit import check_fits, estimate_memory, meta_device
from sagan.metrics import EXTRACTORS
from sagan.metrics.declared import resolve
from sagan.metrics.during import check_during, default_during
from sagan.metrics.pixel_metrics import check_pixel_metric_names
from sagan.models.backbone import (
    build_blocks,
    build_variant,
    check_growable,
    variant_backbone,
)
from sagan.nn.spectral import check_g_spectral_norm
from sagan.registry import VARIANTS, load_plugins
from sagan.report.claim_specs import (
    EVERY_OTHER_ARM,
    HEADLINE,
    ClaimSpec,
    claims_from_study,
)
from sagan.report.figure_plan import StudyFacts
from sagan.study.model import (
    SECTIONS,
    DatasetEntry,
    ProfileSettings,
    Study,
    extractor_of,
    parse_study,
)
from sagan.study_checks import (
    SEED_LIMIT,
    check_batch_size,
    check_counts,
    check_heldout,
    check_positive,
    check_resolution,
    check_seeds,
    check_sizes,
    known_count,
    smallest_training_set,
)

__all__ = ["DatasetEntry", "ProfileSettings", "Study", "parse_study"]
from sagan.train.checks import check_train
from sagan.train.progressive import check_schedule


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
            _, g_blocks, _ = _arm_blocks(study, dataset, arms[name])
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
    return _run_folder(cfg, run, f"{run.arm}-{layout.run_key(to_dict(cfg))}")


def _run_folder(cfg: RunConfig, run: Run, arm: str) -> str:
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


def validate_study(
    study: Study,
    *,
    check_files: bool = False,
    device: str | None = None,
    force: bool = False,
    design_claims: list[ClaimSpec] | None = None,
) -> None:
    """Every name known, every option accepted, every slot placeable, every run able to
    fit its device; else one ConfigError. (``parse_study`` checked the plain values.)

    ``check_files``: also require a supplied extractor file (e.g. Inception's) to exist.
    ``device``: where training runs (cpu | cuda), if known: fp16 needs cuda, and each run's
    estimated memory must fit it (None: unknown, memory not checked).
    ``force``: skip the memory check (the estimate is an upper bound).
    ``design_claims``: the claims the study's own ``claims:`` go over; given, those are
    checked too (``check_study_claims``).
    """
    check_seeds(list(study.seeds))  # a part of a study (the cost profile's) may lack them
    if not study.sizes:
        raise ConfigError("sizes must list training-set sizes, e.g. [1000, full]")
    check_sizes(study.sizes, "sizes")
    load_plugins(list(study.plugins))
    for arm in study.arms.values():
        VARIANTS.get(arm.variant)
    check_profile(study)
    for name in study.datasets:
        _check_dataset(study, name, device)
    if not force:
        check_study_fits(study, device)
    if design_claims is not None:
        check_study_claims(study, design_claims)
    if check_files:
        check_study_files(study)


def check_study_claims(study: Study, design: list[ClaimSpec]) -> None:
    """The study's own ``claims:`` as the report reads them over the ``design``'s (ranges,
    margins, kinds and fields checked by ``claims_from_study``), each naming arms, sweeps or
    variants the study has, datasets it has, and a declared metric: a typo would otherwise
    read "not measured" after the whole study ran."""
    specs = {c.id: c for c in claims_from_study(study.claims, design)}
    arms = study.arms
    names = set(arms) | {a.sweep for a in arms.values() if a.sweep}
    names |= {a.variant for a in arms.values()}
    extractors = {
        from_dict(EvalConfig, dataset_study(study, d).evaluation).extractor for d in study.datasets
    }
    for cid in map(str, study.claims):
        spec = specs[cid]
        for role in ("arm", "baseline"):
            name = getattr(spec, role)
            if name not in names and not (role == "arm" and name == EVERY_OTHER_ARM):
                raise ConfigError(
                    f"claims.{cid}.{role}: {name!r} is not an arm, sweep or variant of this "
                    f"study; its arms: {', '.join(arms)}"
                )
        if unknown := sorted(set(spec.datasets or ()) - set(study.datasets)):
            raise ConfigError(
                f"claims.{cid}.datasets: {', '.join(unknown)} not in this study's datasets "
                f"({', '.join(study.datasets)})"
            )
        named = spec.metric in (HEADLINE, f"{HEADLINE}_gap", "s_per_it")
        if spec.kind != "paired" or named:
            continue
        found = resolve(spec.metric)
        if found is None or (found.extractor is not None and found.extractor not in extractors):
            raise ConfigError(
                f"claims.{cid}.metric: {spec.metric!r} is no metric this study scores (sagan "
                f"metrics lists the declared ones; its extractors: {', '.join(sorted(extractors))})"
                f"; or use {HEADLINE!r} or {HEADLINE + '_gap'!r}"
            )


def check_study_files(study: Study) -> None:
    """The files a study reads that no job makes (a supplied extractor's weights) are there
    and load; else a DataError saying where to get them."""
    for name in study.datasets:
        evaluation = from_dict(EvalConfig, dataset_study(study, name).evaluation)
        if evaluation.extractor not in TRAINED_EXTRACTORS:
            # the extractor's own builder says what is missing and where to get it
            EXTRACTORS.build(evaluation.extractor, {"path": evaluation.extractor_path})


def _check_sections(
    sections: dict[str, dict[str, Any]], where: str, device: str | None
) -> ModelConfig:
    """The model, train and evaluation sections (as one dataset or one arm sees them)."""
    model = from_dict(ModelConfig, sections["model"], f"{where}model")
    check_g_spectral_norm(model.g_spectral_norm)
    train = from_dict(TrainConfig, sections["train"], f"{where}train")
    check_train(train)
    if device == "cpu" and train.precision == "fp16":
        raise ConfigError(
            f"{where}train.precision fp16 needs a GPU (autocast + GradScaler), but training runs "
            "on the CPU here: give GPUs with --resources gpu=N, or use precision bf16 or fp32"
        )
    evaluation = from_dict(EvalConfig, sections["evaluation"], f"{where}evaluation")
    check_positive(model, f"{where}model", ("width", "z_dim"))
    check_positive(evaluation, f"{where}evaluation", ("num_samples", "batch_size"))
    if not 0 <= evaluation.seed < SEED_LIMIT:
        raise ConfigError(
            f"{where}evaluation.seed must be between 0 and {SEED_LIMIT - 1}, got {evaluation.seed}"
        )
    check_during(evaluation, train.iterations, f"{where}evaluation")
    EXTRACTORS.get(evaluation.extractor)
    check_pixel_metric_names(evaluation.skip_pixel_metrics, f"{where}evaluation.skip_pixel_metrics")
    if evaluation.extractor not in TRAINED_EXTRACTORS and not evaluation.extractor_path:
        raise ConfigError(
            f"{where}evaluation.extractor_path: extractor {evaluation.extractor!r} needs its "
            "weights file (for inception: inception-2015-12-05.pt)"
        )
    return model


def _arm_sections(study: Study, dataset: str, arm: Arm | None = None) -> dict[str, dict]:
    """The sections as one arm on one dataset sees them (the dataset's own view, the arm's
    model and train keys over it)."""
    view = dataset_study(study, dataset)
    return {name: view.section(name, arm=arm) for name in SECTIONS}


def check_study_fits(study: Study, device: str | None) -> None:
    """Each dataset's arms, their training step's memory estimated on the meta device
    (sagan.memory_fit), against the device's; else a ConfigError with the numbers. Needs a study
    ``validate_study`` accepted. ``device`` None: unknown, nothing is checked."""
    if device is None:
        return
    for name, entry in study.datasets.items():
        for arm_name in dataset_variants(study, name):
            arm = study.arms[arm_name]
            sections = _arm_sections(study, name, arm)
            model = from_dict(ModelConfig, sections["model"])
            train = from_dict(TrainConfig, sections["train"])
            estimate = estimate_memory(
                model,
                arm.variant,
                arm.options,
                resolution=entry.resolution,
                batch=train.batch_size,
                num_classes=2 if model.conditional else 0,
                frames=dataset_frames(entry.source, entry.options),
                ema=train.ema_decay > 0,
            )
            check_fits(estimate, device, f"datasets.{name} / variants.{arm.name}: a training step")


def _check_dataset(study: Study, name: str, device: str | None) -> None:
    entry = study.datasets[name]
    key = f"datasets.{name}"
    check_resolution(entry.resolution, key)
    check_heldout(entry.heldout, key)
    if "resolution" in entry.options:
        raise ConfigError(f"{key}: set resolution beside heldout, not in options")
    registered = DATASETS.get(entry.source)
    try:
        DATASETS.check_options(entry.source, entry.options, supplied=("resolution",))
    except ConfigError as err:
        raise ConfigError(f"{key}.options: {err}") from None
    check_sizes(entry.sizes, f"{key}.sizes")
    # generated datasets (probes, moving digits) and fixed ones (digits) know their count
    # up front; the others are counted when prepared
    sizes = list(study.sizes_of(name))
    check_counts(name, entry.source, registered, entry.options, entry.heldout, sizes)
    data_kind = kind(DATASETS, entry.source)
    extractor = entry_extractor(study, name)
    data_kind.check_extractor(extractor, f"{key}.evaluation.extractor")
    where = f"{key}." if entry.overrides else ""
    _check_sections(_arm_sections(study, name), where, device)
    arms = study.arms
    sweeps = {a.sweep for a in arms.values()}
    for listed in entry.variants:
        if listed not in arms and listed not in sweeps:
            raise ConfigError(
                f"{key}.variants: {listed!r} is not under the study's variants "
                f"({', '.join(study.entries)}); add it there with its options"
            )
    variants = dataset_variants(study, name)
    for arm in variants:
        arm_kind = kind(VARIANTS, arms[arm].variant)
        if arm_kind != data_kind:
            raise ConfigError(
                f"{key}.variants: {arm!r} is an {arm_kind.name} variant but "
                f"{name!r} is {data_kind.name} data; use {data_kind.name} variants: "
                f"{', '.join(VARIANTS.names(data_kind.name))}"
            )
    if not variants:
        raise ConfigError(
            f"{key}: no {data_kind.name} variant in the study's variants; add one of "
            f"{', '.join(VARIANTS.names(data_kind.name))}"
        )
    for arm in variants:
        _check_arm(study, name, arms[arm], device)


def known_classes(source: str, model: ModelConfig) -> int:
    """Classes a run on a registered dataset conditions on, as far as known before it is
    prepared: 0 unconditional; 1 for a dataset registered ``unlabelled`` (every label 0);
    else 2, standing for the count ``prepare`` finds."""
    if not model.conditional:
        return 0
    return 1 if "unlabelled" in DATASETS.get(source).tags else 2


def _arm_blocks(study: Study, dataset: str, arm: Arm) -> tuple:
    """The arm's backbone and its G and D blocks by side (``build_blocks``), built on the meta
    device: no memory, no weights."""
    where = f"variants.{arm.name}"
    model_keys = _arm_sections(study, dataset, arm)["model"]
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


def _check_arm(study: Study, dataset: str, arm: Arm, device: str | None) -> None:
    """The arm's overrides, then its attention blocks built at their slots' widths on the
    meta device (no memory), so a bad option value fails here in one line naming the arm,
    not in its train job; then its batch against the data."""
    where = f"variants.{arm.name}"
    sections = _arm_sections(study, dataset, arm)
    if arm.model or arm.train:
        _check_sections(sections, f"{where}.", device)
    model = from_dict(ModelConfig, sections["model"], f"{where}.model")
    entry = study.datasets[dataset]
    try:
        _arm_blocks(study, dataset, arm)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    except (TypeError, ValueError, KeyError) as err:  # a value the builder or a block refused
        raise ConfigError(f"{where} (variant {arm.variant!r}): {err}") from None
    train = from_dict(TrainConfig, sections["train"], f"{where}.train")
    if train.progressive is not None:
        try:
            check_growable(variant_backbone(build_variant(arm.variant, arm.options), model))
            check_schedule(train.progressive, entry.resolution, train.iterations)
        except ConfigError as err:
            raise ConfigError(f"datasets.{dataset} / {where}: {err}") from None
    count = known_count(DATASETS.get(entry.source), entry.options)
    smallest = smallest_training_set(
        list(study.sizes_of(dataset)), count and count[0], entry.heldout
    )
    check_batch_size(train.batch_size, smallest, f"datasets.{dataset} / {where}: ")


def code_changes(
    study: Study,
    run_dirs: dict[Run, str],
    configs: dict[str, RunConfig] | None = None,
) -> list[str]:
    """One line per run whose variant's code changed since a finished sibling run of the
    same arm, size and seed that differs in nothing else: it retrains into a new folder, and
    the line says how to keep the old result instead. ``configs``: the runs' resolved
    configs by folder, where the caller has them (else each is resolved here)."""
    import glob
    from pathlib import Path

    import yaml

    messages = []
    for run, out in run_dirs.items():
        if Path(out).exists():
            continue
        resolved = configs[out] if configs else run_config(study, run)
        cfg = to_dict(resolved)
        every_key = _run_folder(resolved, run, f"{run.arm}-*")  # the arm's other configs
        for path in glob.glob(str(run_folder.path(every_key, run_folder.CONFIG))):
            old = yaml.safe_load(Path(path).read_text()) or {}
            if old.get("variant_source") in (None, cfg["variant_source"]):
                continue
            if layout.run_key({**old, "variant_source": ""}) == layout.run_key(
                {**cfg, "variant_source": ""}
            ):
                messages.append(
                    f"variant {cfg['variant']!r} code changed since {Path(path).parent} "
                    f"(source {old['variant_source']} -> {cfg['variant_source']}): arm "
                    f"{run.arm!r} retrains into {out}; to keep the old result instead, "
                    f'pin it with `source: "{old["variant_source"]}"` under variants.{run.arm}'
                )
                break
    return messages
