"""A study checked up front (``validate_study``): every name known, every option
accepted, every slot placeable, every run able to fit its device, the claims it declares;
each failure one ConfigError naming the key and the fix. Validation lives here only: the
plain values are checked as the study is parsed (``sagan.study.model``, ``sagan.study_checks``).
"""

from __future__ import annotations

from typing import Any

from sagan.arms import Arm
from sagan.config import (
    EvalConfig,
    ModelConfig,
    TrainConfig,
    from_dict,
)
from sagan.cost.plan import check_profile
from sagan.data import DATASETS
from sagan.errors import ConfigError
from sagan.memory_fit import check_fits, estimate_memory
from sagan.metrics import EXTRACTORS
from sagan.metrics.declared import resolve
from sagan.metrics.during import check_during
from sagan.metrics.pixel_metrics import check_pixel_metric_names
from sagan.models.backbone import (
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
from sagan.study.model import (
    Study,
)
from sagan.study.plan import (
    TRAINED_EXTRACTORS,
    arm_blocks,
    arm_sections,
    dataset_frames,
    dataset_study,
    dataset_variants,
    entry_extractor,
    kind,
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
from sagan.train.checks import check_train
from sagan.train.progressive import check_schedule


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


def check_study_fits(study: Study, device: str | None) -> None:
    """Each dataset's arms, their training step's memory estimated on the meta device
    (sagan.memory_fit), against the device's; else a ConfigError with the numbers. Needs a study
    ``validate_study`` accepted. ``device`` None: unknown, nothing is checked."""
    if device is None:
        return
    for name, entry in study.datasets.items():
        for arm_name in dataset_variants(study, name):
            arm = study.arms[arm_name]
            sections = arm_sections(study, name, arm)
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
    _check_sections(arm_sections(study, name), where, device)
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


def _check_arm(study: Study, dataset: str, arm: Arm, device: str | None) -> None:
    """The arm's overrides, then its attention blocks built at their slots' widths on the
    meta device (no memory), so a bad option value fails here in one line naming the arm,
    not in its train job; then its batch against the data."""
    where = f"variants.{arm.name}"
    sections = arm_sections(study, dataset, arm)
    if arm.model or arm.train:
        _check_sections(sections, f"{where}.", device)
    model = from_dict(ModelConfig, sections["model"], f"{where}.model")
    entry = study.datasets[dataset]
    try:
        arm_blocks(study, dataset, arm)
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
