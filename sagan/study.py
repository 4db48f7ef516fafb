"""A study: datasets x variants x sizes x seeds, expanded into run configs, checked up front.

Pure functions over the study dict (as loaded from YAML), so the workflow, the CLI and the
tests share one definition of what a study means and what is valid.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any

from sagan.config import DataConfig, EvalConfig, ModelConfig, RunConfig, TrainConfig, from_dict
from sagan.cost.plan import check_profile
from sagan.data import DATASETS
from sagan.errors import ConfigError
from sagan.metrics import EXTRACTORS
from sagan.models import build_backbone, build_variant
from sagan.models.backbone import check_slots
from sagan.nn.spectral import check_g_spectral_norm
from sagan.registry import VARIANTS, load_plugins
from sagan.train.checks import check_train


@dataclass(frozen=True)
class Run:
    dataset: str
    variant: str
    size: int | str
    seed: int

    @property
    def path(self) -> str:
        """The run's folder below ``results/runs/<study>/``."""
        return f"{self.dataset}/{self.variant}/n{self.size}/s{self.seed}"


SECTIONS = ("model", "train", "evaluation")  # a dataset may override keys of these


def kind(registry: Any, name: str) -> str:
    """ "video" for a dataset or variant registered with the video tag, else "image"."""
    return "video" if "video" in registry.get(name).tags else "image"


def dataset_variants(study: dict[str, Any], dataset: str) -> list[str]:
    """The variants trained on ``dataset``: its own ``variants`` list, else every study
    variant of the dataset's kind (image variants on image data, video on video)."""
    ds = study["datasets"][dataset]
    if ds.get("variants"):
        return list(ds["variants"])
    want = kind(DATASETS, dataset)
    return [v for v in study["variants"] if kind(VARIANTS, v) == want]


def dataset_study(study: dict[str, Any], dataset: str) -> dict[str, Any]:
    """The study as one dataset sees it: its ``model`` / ``train`` / ``evaluation`` keys
    over the study's, and its ``sizes`` if it has its own. Video data always use the domain
    extractor (the study's ``evaluation.extractor`` is for images)."""
    ds = study["datasets"][dataset]
    out = dict(study)
    for section in SECTIONS:
        if ds.get(section):
            out[section] = {**(study.get(section) or {}), **ds[section]}
    out["sizes"] = ds.get("sizes") or study.get("sizes", [])
    if kind(DATASETS, dataset) == "video":  # the study's extractor is for images; clips are
        # scored with the video domain extractors (FVD with evaluation.i3d_path)
        own = (ds.get("evaluation") or {}).get("extractor", "domain")
        out["evaluation"] = {**(out.get("evaluation") or {}), "extractor": own}
        out["evaluation"].pop("extractor_path", None)
    return out


def dataset_frames(dataset: str, options: dict[str, Any] | None) -> int:
    """The clip length a video dataset makes (its ``frames`` option or default); 0 for images."""
    if kind(DATASETS, dataset) != "video":
        return 0
    default = inspect.signature(DATASETS.get(dataset).builder).parameters["frames"].default
    return int((options or {}).get("frames", default))


def runs(study: dict[str, Any]) -> list[Run]:
    return [
        Run(d, v, n, s)
        for d in study["datasets"]
        for v in dataset_variants(study, d)
        for n in dataset_study(study, d)["sizes"]
        for s in study["seeds"]
    ]


def run_config(study: dict[str, Any], run: Run, paths: dict[str, str]) -> RunConfig:
    """The resolved config of one run; ``paths`` holds the data, extractor and reference
    (held-out) and train_reference (training pool) feature files."""
    ds = study["datasets"][run.dataset]
    study = dataset_study(study, run.dataset)
    base = RunConfig(
        study=study["study"],
        variant=run.variant,
        variant_options=dict(study["variants"][run.variant] or {}),
        plugins=list(study.get("plugins", [])),
        data=DataConfig(
            dataset=run.dataset, resolution=ds["resolution"], size=run.size, path=paths["data"]
        ),
        model=from_dict(ModelConfig, study.get("model"), "model"),
        train=from_dict(TrainConfig, study.get("train"), "train"),
        eval=from_dict(EvalConfig, study.get("evaluation"), "evaluation"),
    )
    return replace(
        base,
        train=replace(base.train, seed=run.seed),
        eval=replace(
            base.eval,
            extractor_path=paths["extractor"],
            reference_path=paths["reference"],
            train_reference_path=paths["train_reference"],
        ),
    )


TRAINED_EXTRACTORS = ("domain",)  # extractors the workflow trains; others are files you supply


def validate_study(
    study: dict[str, Any], *, check_files: bool = False, device: str | None = None
) -> None:
    """Every name known, every option accepted, every slot placeable; else one ConfigError.

    ``check_files``: also require a supplied extractor file (e.g. Inception's) to exist.
    ``device``: where training runs (cpu | cuda), if known: fp16 needs cuda.
    """
    load_plugins(study.get("plugins", []))
    check_profile(study)
    _check_sizes(study["sizes"], "sizes")
    for name in study["variants"]:
        VARIANTS.get(name)
    for name in study["datasets"]:
        _check_dataset(study, name, device)
    if check_files:
        check_study_files(study)


def check_study_files(study: dict[str, Any]) -> None:
    """The files a study reads that no job makes (a supplied extractor's weights) are there
    and load; else a DataError saying where to get them."""
    for name in study["datasets"]:
        evaluation = from_dict(EvalConfig, dataset_study(study, name).get("evaluation"))
        if evaluation.extractor not in TRAINED_EXTRACTORS:
            # the extractor's own builder says what is missing and where to get it
            EXTRACTORS.build(evaluation.extractor, {"path": evaluation.extractor_path})


def _check_sections(study: dict[str, Any], where: str, device: str | None) -> ModelConfig:
    """The model, train and evaluation sections (one dataset's view of them)."""
    model = from_dict(ModelConfig, study.get("model"), f"{where}model")
    check_g_spectral_norm(model.g_spectral_norm)
    train = from_dict(TrainConfig, study.get("train"), f"{where}train")
    check_train(train)
    if device == "cpu" and train.precision == "fp16":
        raise ConfigError(
            f"{where}train.precision fp16 needs a GPU (autocast + GradScaler), but training runs "
            "on the CPU here: give GPUs with --resources gpu=N, or use precision bf16 or fp32"
        )
    evaluation = from_dict(EvalConfig, study.get("evaluation"), f"{where}evaluation")
    _check_positive(model, f"{where}model", ("width", "z_dim"))
    _check_positive(evaluation, f"{where}evaluation", ("num_samples", "batch_size"))
    EXTRACTORS.get(evaluation.extractor)
    if evaluation.extractor not in TRAINED_EXTRACTORS and not evaluation.extractor_path:
        raise ConfigError(
            f"{where}evaluation.extractor_path: extractor {evaluation.extractor!r} needs its "
            "weights file (for inception: inception-2015-12-05.pt)"
        )
    return model


def _check_positive(section: Any, where: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if getattr(section, key) < 1:
            raise ConfigError(
                f"{where}.{key} must be a positive integer, got {getattr(section, key)}"
            )


def _check_sizes(sizes: list[Any], key: str) -> None:
    for size in sizes:
        if size != "full" and not (isinstance(size, int) and size > 0):
            raise ConfigError(f"{key}: {size!r} is not a positive integer or 'full'")


def _check_dataset(study: dict[str, Any], name: str, device: str | None) -> None:
    ds = study["datasets"][name]
    key = f"datasets.{name}"
    options = ds.get("options") or {}
    if "resolution" in options:
        raise ConfigError(f"{key}: set resolution beside heldout, not in options")
    # generated datasets (probes, moving digits) know their count up front; others at prepare
    if isinstance(options.get("count"), int) and ds["heldout"] >= options["count"]:
        raise ConfigError(
            f"{key}.heldout {ds['heldout']} leaves no training images of "
            f"options.count {options['count']}: make heldout smaller than count"
        )
    DATASETS.check_options(name, options, supplied=("resolution",))
    _check_sizes(ds.get("sizes") or [], f"{key}.sizes")
    data_kind = kind(DATASETS, name)
    extractor = (dataset_study(study, name).get("evaluation") or {}).get("extractor", "domain")
    if data_kind == "video" and extractor != "domain":
        raise ConfigError(
            f"{key}.evaluation.extractor: video data are scored with the domain extractors "
            f"(per-frame and 3D), not {extractor!r}; remove it (FVD: set i3d_path)"
        )
    where = f"{key}." if any(ds.get(section) for section in SECTIONS) else ""
    model = _check_sections(dataset_study(study, name), where, device)
    for variant in ds.get("variants") or []:
        if variant not in study["variants"]:
            raise ConfigError(
                f"{key}.variants: {variant!r} is not under the study's variants "
                f"({', '.join(study['variants'])}); add it there with its options"
            )
        if kind(VARIANTS, variant) != data_kind:
            raise ConfigError(
                f"{key}.variants: {variant!r} is an {kind(VARIANTS, variant)} variant but "
                f"{name!r} is {data_kind} data; use {data_kind} variants: "
                f"{', '.join(VARIANTS.names(data_kind))}"
            )
    variants = dataset_variants(study, name)
    if not variants:
        raise ConfigError(
            f"{key}: no {data_kind} variant in the study's variants; add one of "
            f"{', '.join(VARIANTS.names(data_kind))}"
        )
    frames = dataset_frames(name, options)
    for variant in variants:
        try:
            spec = build_variant(variant, study["variants"][variant] or {})
        except TypeError as err:  # a bad option value the builder rejected
            raise ConfigError(f"variants.{variant}: {err}") from err
        backbone_name = spec.backbone or model.backbone
        backbone = build_backbone(
            model, image_size=ds["resolution"], channels=3, frames=frames, name=backbone_name
        )
        check_slots(spec, backbone, variant, backbone_name)
