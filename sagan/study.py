"""A study: datasets x variants x sizes x seeds, expanded into run configs, checked up front.

Pure functions over the study dict (as loaded from YAML), so the workflow, the CLI and the
tests share one definition of what a study means and what is valid.
"""

from __future__ import annotations

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
from sagan.registry import load_plugins
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


def runs(study: dict[str, Any]) -> list[Run]:
    return [
        Run(d, v, n, s)
        for d in study["datasets"]
        for v in study["variants"]
        for n in study["sizes"]
        for s in study["seeds"]
    ]


def run_config(study: dict[str, Any], run: Run, paths: dict[str, str]) -> RunConfig:
    """The resolved config of one run; ``paths`` holds the data, extractor and reference
    (held-out) and train_reference (training pool) feature files."""
    ds = study["datasets"][run.dataset]
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
    model = from_dict(ModelConfig, study.get("model"), "model")
    check_g_spectral_norm(model.g_spectral_norm)
    train = from_dict(TrainConfig, study.get("train"), "train")
    check_train(train)
    if device == "cpu" and train.precision == "fp16":
        raise ConfigError(
            "train.precision fp16 needs a GPU (autocast + GradScaler), but training runs on the "
            "CPU here: give GPUs with --resources gpu=N, or use precision bf16 or fp32"
        )
    evaluation = from_dict(EvalConfig, study.get("evaluation"), "evaluation")
    _check_positive(model, "model", ("width", "z_dim"))
    _check_positive(evaluation, "evaluation", ("num_samples", "batch_size"))
    check_profile(study)
    EXTRACTORS.get(evaluation.extractor)
    if evaluation.extractor not in TRAINED_EXTRACTORS and not evaluation.extractor_path:
        raise ConfigError(
            f"evaluation.extractor_path: extractor {evaluation.extractor!r} needs its "
            "weights file (for inception: inception-2015-12-05.pt)"
        )
    for size in study["sizes"]:
        if size != "full" and not (isinstance(size, int) and size > 0):
            raise ConfigError(f"sizes: {size!r} is not a positive integer or 'full'")
    for name, ds in study["datasets"].items():
        options = ds.get("options") or {}
        if "resolution" in options:
            raise ConfigError(f"datasets.{name}: set resolution beside heldout, not in options")
        # generated datasets (probes) know their image count up front; others at prepare time
        if isinstance(options.get("count"), int) and ds["heldout"] >= options["count"]:
            raise ConfigError(
                f"datasets.{name}.heldout {ds['heldout']} leaves no training images of "
                f"options.count {options['count']}: make heldout smaller than count"
            )
        DATASETS.check_options(name, options)
        backbone = build_backbone(model, image_size=ds["resolution"], channels=3)
        for variant, options in study["variants"].items():
            try:
                spec = build_variant(variant, options or {})
            except TypeError as err:  # a bad option value the builder rejected
                raise ConfigError(f"variants.{variant}: {err}") from err
            check_slots(spec, backbone, variant, model.backbone)
    if check_files:
        check_study_files(study)


def check_study_files(study: dict[str, Any]) -> None:
    """The files a study reads that no job makes (a supplied extractor's weights) are there
    and load; else a DataError saying where to get them."""
    evaluation = from_dict(EvalConfig, study.get("evaluation"), "evaluation")
    if evaluation.extractor not in TRAINED_EXTRACTORS:
        # the extractor's own builder says what is missing and where to get it
        EXTRACTORS.build(evaluation.extractor, {"path": evaluation.extractor_path})


def _check_positive(section: Any, where: str, keys: tuple[str, ...]) -> None:
    for key in keys:
        if getattr(section, key) < 1:
            raise ConfigError(
                f"{where}.{key} must be a positive integer, got {getattr(section, key)}"
            )
